/*
 * startprog_pages - what the interposer's start-up touched of its zeroed
 * data: the resident size (kB) of the anonymous mapping that follows
 * libtlsshim.so's file mappings (its .bss and .lbss), read from
 * /proc/self/smaps first thing in main(). Prints "bss_rss_kb N", or
 * "no libtlsshim.so" when the library is not loaded.
 */
#include <stdio.h>
#include <string.h>

int main(void)
{
	char line[512];
	int after_lib = 0, in_anon = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f) {
		perror("/proc/self/smaps");
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		int is_map = strchr(line, '-') && strchr(line, '-') < strchr(line, ' ') &&
		             line[0] != ' ' && strncmp(line, "Rss:", 4) != 0;
		if (is_map) {
			in_anon = 0;
			if (strstr(line, "/libtlsshim.so")) {
				after_lib = 1;
			} else if (after_lib) {
				/* an anonymous mapping: no path after the inode */
				unsigned long ino = 1;
				char path[2] = "";
				if (sscanf(line, "%*s %*s %*s %*s %lu %1s", &ino, path) >= 1 && ino == 0 &&
				    path[0] == '\0')
					in_anon = 1;
				after_lib = 0;
			}
			continue;
		}
		if (in_anon && strncmp(line, "Rss:", 4) == 0) {
			printf("bss_rss_kb %s", line + 4 + strspn(line + 4, " "));
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	puts("no libtlsshim.so");
	return 0;
}
