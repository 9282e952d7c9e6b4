/*
 * evprog_racectl: a deliberate data race (two threads increment one plain
 * int), the control of test_evloop_tsan.sh: run in the same environment as
 * the programs under test, ThreadSanitizer must report it, which proves
 * that the sanitizer is active there and that a clean run means something.
 * Prints the (wrong) total.
 */
#include <pthread.h>
#include <stdio.h>

static int counter;

static void *bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++)
		counter++;
	return NULL;
}

int main(void)
{
	pthread_t th;
	pthread_create(&th, NULL, bump, NULL);
	bump(NULL);
	pthread_join(th, NULL);
	printf("racectl %d\n", counter);
	return 0;
}
