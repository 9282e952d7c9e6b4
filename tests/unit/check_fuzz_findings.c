/* What fuzzing found (tests/fuzz/), one test per finding, beside the
 * crashing input kept in tests/fuzz/corpus/TARGET/ (replayed by
 * test_fuzz_corpus). */
#include <check.h>
#include <string.h>

#include "identity_int.h"

/* fuzz_pin: "sha256//" is optional and made of base64 digits, so a pin
 * whose base64 itself begins with "sha256//" was read with that beginning
 * taken for the prefix, and failed (or, doubled, meant another key). */
START_TEST(test_pin_whose_base64_begins_with_the_prefix)
{
	/* 32 bytes whose base64 is "sha256//5AwJliU7uSqO6LqJufnu7qLO583jNCbwJ1U=" */
	const char *bare = "sha256//5AwJliU7uSqO6LqJufnu7qLO583jNCbwJ1U=";
	unsigned char d1[CORE_PIN_LEN], d2[CORE_PIN_LEN], d3[CORE_PIN_LEN];
	char why[200];

	ck_assert_msg(core_pin_parse(bare, d1, why, sizeof why) == 0, "bare: %s", why);
	ck_assert_int_eq(d1[0], 0xb2); /* 's' 'h' 'a' -> 0xb2 0x16 0xb6 */
	ck_assert_int_eq(d1[1], 0x16);
	ck_assert_msg(core_pin_parse("sha256//sha256//5AwJliU7uSqO6LqJufnu7qLO583jNCbwJ1U=", d2,
	                             why, sizeof why) == 0, "prefixed: %s", why);
	ck_assert_mem_eq(d1, d2, CORE_PIN_LEN);
	/* without padding, too */
	ck_assert_int_eq(core_pin_parse("sha256//5AwJliU7uSqO6LqJufnu7qLO583jNCbwJ1U", d3, why,
	                                sizeof why), 0);
	ck_assert_mem_eq(d1, d3, CORE_PIN_LEN);
	/* an ordinary prefixed pin is read as before, a bad one still fails
	 * with the reason about what follows the prefix */
	ck_assert_int_eq(core_pin_parse("sha256//88Ho8fbp5AwJliU7uSqG6LqJufnu7qLO583jNCbwJ1U=", d1,
	                                why, sizeof why), 0);
	ck_assert_int_eq(d1[0], 0xf3);
	ck_assert_int_eq(core_pin_parse("sha256//AAAA", d1, why, sizeof why), -1);
	ck_assert_msg(strstr(why, "decodes to 3 bytes") != NULL, "why: %s", why);
}
END_TEST

Suite *fuzz_findings_suite(void)
{
	Suite *s = suite_create("fuzz_findings");
	TCase *tc = tcase_create("findings");
	tcase_add_test(tc, test_pin_whose_base64_begins_with_the_prefix);
	suite_add_tcase(s, tc);
	return s;
}
