/* DNS list query names and the lists option (see dnsbl-query.h). Pure. */
#include "dnsbl-query.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dnsbl_parse_lists(const char *s, const char *prefix, struct dnsbl_list *lists, size_t max,
		      const char **error_r)
{
	size_t n = 0;
	const char *p = s;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		const char *start = p;
		while (*p != '\0' && *p != ',')
			p++;
		const char *end = p;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		const char *eq = memchr(start, '=', (size_t)(end - start));
		if (eq == NULL) {
			*error_r = "each list is zone=weight";
			return -1;
		}
		if (n == max) {
			*error_r = "too many lists";
			return -1;
		}
		struct dnsbl_list *l = &lists[n];
		memset(l, 0, sizeof(*l));
		const char *zend = eq;
		const char *slash = memchr(start, '/', (size_t)(eq - start));
		if (slash != NULL) {
			char code[32];
			size_t cl = (size_t)(eq - slash - 1);
			if (cl >= sizeof(code)) {
				*error_r = "bad answer code (want zone/127.0.0.N=weight)";
				return -1;
			}
			memcpy(code, slash + 1, cl);
			code[cl] = '\0';
			if (inet_pton(AF_INET, code, l->code) != 1) {
				*error_r = "bad answer code (want zone/127.0.0.N=weight)";
				return -1;
			}
			l->has_code = true;
			zend = slash;
		}
		while (start < zend && (*start == ' ' || *start == '\t'))
			start++;
		size_t zl = (size_t)(zend - start);
		while (zl > 0 && (start[zl - 1] == '.' || start[zl - 1] == ' '))
			zl--;
		if (zl == 0 || zl >= sizeof(l->zone) - 1) {
			*error_r = "bad zone name";
			return -1;
		}
		for (size_t i = 0; i < zl; i++) {
			unsigned char c = (unsigned char)start[i];
			if (!isalnum(c) && c != '.' && c != '-' && c != '_') {
				*error_r = "bad zone name";
				return -1;
			}
			l->zone[i] = (char)tolower(c);
		}
		char num[64];
		size_t nl = (size_t)(end - eq - 1);
		if (nl == 0 || nl >= sizeof(num)) {
			*error_r = "bad weight";
			return -1;
		}
		memcpy(num, eq + 1, nl);
		num[nl] = '\0';
		char *e;
		l->weight = strtod(num, &e);
		while (*e == ' ')
			e++;
		if (e == num || *e != '\0' || !isfinite(l->weight) || fabs(l->weight) > 1000) {
			*error_r = "bad weight";
			return -1;
		}
		size_t o = (size_t)snprintf(l->test, sizeof(l->test), "%s_", prefix);
		for (size_t i = 0; i < zl && o + 1 < sizeof(l->test); i++)
			l->test[o++] = isalnum((unsigned char)l->zone[i]) ?
				(char)toupper((unsigned char)l->zone[i]) : '_';
		l->test[o] = '\0';
		n++;
	}
	return (int)n;
}

int dnsbl_ip_query(const char *ip, const char *zone, char *out, size_t outlen)
{
	unsigned char a[16];
	int n;
	if (inet_pton(AF_INET, ip, a) == 1) {
		n = snprintf(out, outlen, "%u.%u.%u.%u.%s", a[3], a[2], a[1], a[0], zone);
	} else if (inet_pton(AF_INET6, ip, a) == 1) {
		/* an IPv4-mapped address is looked up as IPv4 */
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (memcmp(a, mapped, 12) == 0) {
			n = snprintf(out, outlen, "%u.%u.%u.%u.%s", a[15], a[14], a[13], a[12], zone);
		} else {
			static const char hex[] = "0123456789abcdef";
			char nib[72];
			size_t o = 0;
			for (int i = 15; i >= 0; i--) {
				nib[o++] = hex[a[i] & 15];
				nib[o++] = '.';
				nib[o++] = hex[a[i] >> 4];
				nib[o++] = '.';
			}
			nib[o] = '\0';
			n = snprintf(out, outlen, "%s%s", nib, zone);
		}
	} else {
		return -1;
	}
	return n < 0 || (size_t)n >= outlen || n > 253 ? -1 : 0;
}

int dnsbl_domain_query(const char *domain, const char *zone, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s.%s", domain, zone);
	return n < 0 || (size_t)n >= outlen || n > 253 ? -1 : 0;
}

bool dnsbl_answer_counts(const struct dnsbl_list *list, const unsigned char a[4])
{
	if (a[0] != 127)
		return false;
	if (a[1] == 0 && a[2] == 0 && a[3] == 1)
		return false;
	if (a[1] == 255 && a[2] == 255)
		return false;
	if (list->has_code)
		return memcmp(a, list->code, 4) == 0;
	return true;
}
