/* Unit tests for proto/dns_packet.c: query encoding, response parsing with
 * compression, CNAME/MX/A/AAAA records, and the refusals that keep a hostile
 * packet harmless (pointer loops, forward pointers, cut packets, bad rdata). */
#include "autoconf.h"
#include "dns_packet.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* A tiny packet writer for building responses. */
struct pkt {
	unsigned char b[2048];
	size_t len;
};

static void put(struct pkt *p, const void *data, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, data, n);
	p->len += n;
}

static void put8(struct pkt *p, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(p, &c, 1);
}

static void put16(struct pkt *p, unsigned v)
{
	put8(p, v >> 8);
	put8(p, v & 0xff);
}

/* A name in wire form, uncompressed: "a.b" -> 1a1b0. */
static void put_name(struct pkt *p, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		put8(p, (unsigned)l);
		put(p, name, l);
		name += l + (dot != NULL);
	}
	put8(p, 0);
}

static void header(struct pkt *p, unsigned id, unsigned flags, unsigned qd, unsigned an)
{
	p->len = 0;
	put16(p, id);
	put16(p, flags);
	put16(p, qd);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

static void rr_head(struct pkt *p, unsigned type, unsigned rdlen)
{
	put16(p, type);
	put16(p, DNS_CLASS_IN);
	put16(p, 0);
	put16(p, 300);
	put16(p, rdlen);
}

static void test_query(void **state)
{
	(void)state;
	unsigned char q[512];
	const char *err;
	int n = dns_packet_query(0x1234, "Example.COM.", DNS_TYPE_MX, q, sizeof(q), &err);
	static const unsigned char want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'C', 'O', 'M', 0, 0, 15, 0, 1,
	};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(q, want, sizeof(want));

	char label[70];
	memset(label, 'a', 64);
	label[64] = '\0';
	assert_int_equal(dns_packet_query(1, label, DNS_TYPE_A, q, sizeof(q), &err), -1);
	assert_int_equal(dns_packet_query(1, "a..b", DNS_TYPE_A, q, sizeof(q), &err), -1);
	assert_int_equal(dns_packet_query(1, "", DNS_TYPE_A, q, sizeof(q), &err), -1);
	assert_int_equal(dns_packet_query(1, ".", DNS_TYPE_A, q, sizeof(q), &err), -1);
	assert_int_equal(dns_packet_query(1, "a b.test", DNS_TYPE_A, q, sizeof(q), &err), -1);
	assert_int_equal(dns_packet_query(1, "a\\.test", DNS_TYPE_A, q, sizeof(q), &err), -1);
	assert_int_equal(dns_packet_query(1, "example.com", DNS_TYPE_A, q, 20, &err), -1);
	char longname[300];
	for (int i = 0; i < 64; i++)
		memcpy(longname + i * 4, "abc.", 4);
	longname[255] = '\0';
	assert_int_equal(dns_packet_query(1, longname, DNS_TYPE_A, q, sizeof(q), &err), -1);
}

/* An MX answer with compressed names, a CNAME and A/AAAA records. */
static void build_answer(struct pkt *p)
{
	header(p, 0xbeef, 0x8180, 1, 5);
	put_name(p, "ex.test");		/* at offset 12 */
	put16(p, DNS_TYPE_MX);
	put16(p, DNS_CLASS_IN);
	/* ex.test MX 10 mx1.ex.test (mx1 + pointer to 12) */
	put16(p, 0xc00c);
	rr_head(p, DNS_TYPE_MX, 2 + 4 + 2);
	put16(p, 10);
	size_t mx1 = p->len;
	put8(p, 3);
	put(p, "mx1", 3);
	put16(p, 0xc00c);
	/* ex.test MX 0 . (null MX) */
	put16(p, 0xc00c);
	rr_head(p, DNS_TYPE_MX, 3);
	put16(p, 0);
	put8(p, 0);
	/* mx1.ex.test A 192.0.2.1 */
	put16(p, 0xc000 | (unsigned)mx1);
	rr_head(p, DNS_TYPE_A, 4);
	put(p, "\xc0\x00\x02\x01", 4);
	/* mx1.ex.test AAAA 2001:db8::1 */
	put16(p, 0xc000 | (unsigned)mx1);
	rr_head(p, DNS_TYPE_AAAA, 16);
	put(p, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	/* www.ex.test CNAME ex.test */
	put8(p, 3);
	put(p, "www", 3);
	put16(p, 0xc00c);
	rr_head(p, DNS_TYPE_CNAME, 2);
	put16(p, 0xc00c);
}

static void test_parse(void **state)
{
	(void)state;
	struct pkt p;
	build_answer(&p);
	struct dns_message *m = malloc(sizeof(*m));
	const char *err = NULL;
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), 0);
	assert_int_equal(m->id, 0xbeef);
	assert_true(m->qr);
	assert_false(m->tc);
	assert_int_equal(m->rcode, 0);
	assert_string_equal(m->qname, "ex.test");
	assert_int_equal(m->qtype, DNS_TYPE_MX);
	assert_int_equal(m->nrrs, 5);
	assert_int_equal(m->rrs[0].type, DNS_TYPE_MX);
	assert_int_equal(m->rrs[0].preference, 10);
	assert_string_equal(m->rrs[0].target, "mx1.ex.test");
	assert_string_equal(m->rrs[1].target, "");
	assert_string_equal(m->rrs[2].owner, "mx1.ex.test");
	assert_memory_equal(m->rrs[2].addr, "\xc0\x00\x02\x01", 4);
	assert_int_equal(m->rrs[3].type, DNS_TYPE_AAAA);
	assert_int_equal(m->rrs[3].addr[15], 1);
	assert_string_equal(m->rrs[4].owner, "www.ex.test");
	assert_string_equal(m->rrs[4].target, "ex.test");

	/* Every cut of the packet is refused cleanly (or parsed when the
	 * cut falls between records, which the counts then contradict). */
	for (size_t n = 0; n < p.len; n++) {
		unsigned char *copy = malloc(n > 0 ? n : 1);
		memcpy(copy, p.b, n);
		assert_int_equal(dns_packet_parse(copy, n, m, &err), -1);
		free(copy);
	}
	/* With TC set, a cut answer section keeps the whole records. */
	p.b[2] |= 0x02;
	assert_int_equal(dns_packet_parse(p.b, p.len - 3, m, &err), 0);
	assert_true(m->tc);
	assert_int_equal(m->nrrs, 4);
	free(m);
}

static void test_hostile(void **state)
{
	(void)state;
	struct pkt p;
	struct dns_message *m = malloc(sizeof(*m));
	const char *err;

	/* A pointer to itself in the question. */
	header(&p, 1, 0x8180, 1, 0);
	put16(&p, 0xc00c);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);

	/* Two pointers pointing at each other (answer -> answer). */
	header(&p, 1, 0x8180, 1, 1);
	put_name(&p, "a.test");
	put16(&p, 1);
	put16(&p, 1);
	size_t here = p.len;
	put16(&p, 0xc000 | (unsigned)(here + 2));
	put16(&p, 0xc000 | (unsigned)here);
	rr_head(&p, DNS_TYPE_A, 4);
	put(&p, "\1\2\3\4", 4);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);

	/* A label type 0x40/0x80 (obsolete extended labels). */
	header(&p, 1, 0x8180, 1, 0);
	put8(&p, 0x41);
	put(&p, "x", 1);
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);

	/* A record of 5 octets, an AAAA of 4. */
	header(&p, 1, 0x8180, 1, 1);
	put_name(&p, "a.test");
	put16(&p, 1);
	put16(&p, 1);
	put16(&p, 0xc00c);
	rr_head(&p, DNS_TYPE_A, 5);
	put(&p, "\1\2\3\4\5", 5);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);

	/* MX whose name is shorter than its rdata. */
	header(&p, 1, 0x8180, 1, 1);
	put_name(&p, "a.test");
	put16(&p, 15);
	put16(&p, 1);
	put16(&p, 0xc00c);
	rr_head(&p, DNS_TYPE_MX, 6);
	put16(&p, 5);
	put16(&p, 0xc00c);
	put16(&p, 0);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);

	/* MX whose name runs past its rdata. */
	header(&p, 1, 0x8180, 1, 1);
	put_name(&p, "a.test");
	put16(&p, 15);
	put16(&p, 1);
	put16(&p, 0xc00c);
	rr_head(&p, DNS_TYPE_MX, 3);
	put16(&p, 5);
	put_name(&p, "mx.test");
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);

	/* Two questions, none without TC. */
	header(&p, 1, 0x8180, 2, 0);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);
	header(&p, 1, 0x8180, 0, 0);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);
	header(&p, 1, 0x8382, 0, 0);	/* TC, SERVFAIL */
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), 0);
	assert_int_equal(m->rcode, DNS_RCODE_SERVFAIL);

	/* Odd bytes in a label come out escaped; the name cannot pose as
	 * another (an embedded dot is \046). */
	header(&p, 1, 0x8180, 1, 0);
	put8(&p, 5);
	put(&p, "a.b c", 5);
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), 0);
	assert_string_equal(m->qname, "a\\046b\\032c");

	/* More answers than kept: the rest is skipped, not an error. */
	header(&p, 1, 0x8180, 1, 70);
	put_name(&p, "a.t");
	put16(&p, 1);
	put16(&p, 1);
	for (int i = 0; i < 70; i++) {
		put16(&p, 0xc00c);
		rr_head(&p, DNS_TYPE_A, 4);
		put(&p, "\1\2\3\4", 4);
	}
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), 0);
	assert_int_equal(m->nrrs, DNS_PACKET_MAX_RRS);
	free(m);
}

/* TXT (strings joined, NULs kept, a string past its record refused) and
 * PTR records, added for the scan stage. */
static void test_txt_ptr(void **state)
{
	(void)state;
	struct pkt p;
	header(&p, 7, 0x8180, 1, 3);
	put_name(&p, "ex.test");
	put16(&p, DNS_TYPE_TXT);
	put16(&p, DNS_CLASS_IN);
	put_name(&p, "ex.test");
	rr_head(&p, DNS_TYPE_TXT, 12);
	put8(&p, 7);
	put(&p, "v=spf1 ", 7);
	put8(&p, 3);
	put(&p, "a\0b", 3);
	put_name(&p, "ex.test");
	rr_head(&p, DNS_TYPE_TXT, 0);	/* no strings: empty TXT */
	put_name(&p, "1.0.0.127.in-addr.arpa");
	rr_head(&p, DNS_TYPE_PTR, 11);
	put_name(&p, "h.ex.test");
	struct dns_message *m = malloc(sizeof(*m));
	const char *err = NULL;
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), 0);
	assert_int_equal(m->nrrs, 3);
	assert_int_equal(m->rrs[0].txt_len, 10);
	assert_memory_equal(m->txt + m->rrs[0].txt_off, "v=spf1 a\0b", 10);
	assert_int_equal(m->rrs[1].txt_len, 0);
	assert_int_equal(m->rrs[2].type, DNS_TYPE_PTR);
	assert_string_equal(m->rrs[2].target, "h.ex.test");
	/* a character-string longer than what is left of its record */
	header(&p, 7, 0x8180, 1, 1);
	put_name(&p, "ex.test");
	put16(&p, DNS_TYPE_TXT);
	put16(&p, DNS_CLASS_IN);
	put_name(&p, "ex.test");
	rr_head(&p, DNS_TYPE_TXT, 3);
	put8(&p, 9);
	put(&p, "ab", 2);
	assert_int_equal(dns_packet_parse(p.b, p.len, m, &err), -1);
	free(m);
}

static void test_name_eq(void **state)
{
	(void)state;
	assert_true(dns_name_eq("Example.COM", "example.com."));
	assert_true(dns_name_eq("", "."));
	assert_false(dns_name_eq("example.com", "example.co"));
	assert_false(dns_name_eq("a.example.com", "example.com"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_txt_ptr),
		cmocka_unit_test(test_name_eq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
