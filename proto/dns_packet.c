/* DNS messages on the wire (RFC 1035 section 4): query building and response
 * parsing for the queue's stub resolver. Hostile input is the norm here (any
 * host on the path can forge a UDP answer before the id check), so every
 * length is checked before it is read and compression may only point
 * backwards. */
#include "dns_packet.h"

#include <stdio.h>
#include <string.h>

/* Read a 16/32-bit big-endian value; callers have checked the bounds. */
static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int dns_packet_query(uint16_t id, const char *name, uint16_t qtype, unsigned char *out,
		     size_t outlen, const char **error_r)
{
	size_t namelen = strlen(name);
	if (namelen > 0 && name[namelen - 1] == '.')
		namelen--;
	if (namelen == 0 || namelen > 253) {
		*error_r = "bad length of DNS name";
		return -1;
	}
	/* header + name (length octets + labels + root) + type + class */
	size_t need = 12 + namelen + 2 + 4;
	if (outlen < need) {
		*error_r = "DNS query buffer too small";
		return -1;
	}
	memset(out, 0, 12);
	out[0] = (unsigned char)(id >> 8);
	out[1] = (unsigned char)id;
	out[2] = 0x01;	/* RD */
	out[5] = 1;	/* QDCOUNT */
	size_t pos = 12;
	const char *label = name, *end = name + namelen;
	while (label <= end) {
		const char *dot = memchr(label, '.', (size_t)(end - label));
		if (dot == NULL)
			dot = end;
		size_t l = (size_t)(dot - label);
		if (l == 0 || l > 63) {
			*error_r = l == 0 ? "empty label in DNS name" : "DNS label longer than 63 octets";
			return -1;
		}
		for (size_t i = 0; i < l; i++) {
			/* Host names only (LDH, and '_' for service names):
			 * mail never needs more, and a literal like "[::1]"
			 * must not turn into a query. */
			char c = label[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '_')) {
				*error_r = "bad character in DNS name";
				return -1;
			}
		}
		out[pos++] = (unsigned char)l;
		memcpy(out + pos, label, l);
		pos += l;
		label = dot + 1;
	}
	out[pos++] = 0;
	out[pos++] = (unsigned char)(qtype >> 8);
	out[pos++] = (unsigned char)qtype;
	out[pos++] = 0;
	out[pos++] = DNS_CLASS_IN;
	return (int)pos;
}

/* Append one label in presentation form to name at *nlen. -1 when too long. */
static int name_add_label(char *name, size_t *nlen, const unsigned char *label, size_t l)
{
	for (size_t i = 0; i < l; i++) {
		unsigned char c = label[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '_';
		size_t need = plain ? 1 : 4;
		if (*nlen + need + 1 > DNS_NAME_MAX)
			return -1;
		if (plain)
			name[(*nlen)++] = (char)c;
		else {
			snprintf(name + *nlen, 5, "\\%03u", c);
			*nlen += 4;
		}
	}
	name[*nlen] = '\0';
	return 0;
}

/* Read a possibly compressed name at *pos (RFC 1035 section 4.1.4) into name;
 * *pos moves past the name as it appears at that position. A pointer must
 * point strictly before the start of the label sequence it appears in, so
 * following pointers always makes progress towards offset 0 and ends. */
static int read_name(const unsigned char *p, size_t len, size_t *pos, char *name,
		     const char **error_r)
{
	size_t cur = *pos, wire = 0, nlen = 0, limit = cur;
	bool jumped = false;
	name[0] = '\0';
	for (;;) {
		if (cur >= len) {
			*error_r = "DNS name runs past the end of the packet";
			return -1;
		}
		unsigned char l = p[cur];
		if ((l & 0xc0) == 0xc0) {
			if (cur + 1 >= len) {
				*error_r = "DNS compression pointer cut short";
				return -1;
			}
			size_t target = ((size_t)(l & 0x3f) << 8) | p[cur + 1];
			if (target >= limit) {
				*error_r = "DNS compression pointer does not point backwards";
				return -1;
			}
			if (!jumped)
				*pos = cur + 2;
			jumped = true;
			cur = limit = target;
			continue;
		}
		if ((l & 0xc0) != 0) {
			*error_r = "DNS label type unknown";
			return -1;
		}
		if (l == 0) {
			if (!jumped)
				*pos = cur + 1;
			return 0;
		}
		if (cur + 1 + l > len) {
			*error_r = "DNS label runs past the end of the packet";
			return -1;
		}
		wire += 1 + (size_t)l;
		if (wire > 254) {
			*error_r = "DNS name longer than 255 octets";
			return -1;
		}
		if (nlen > 0) {
			if (nlen + 2 > DNS_NAME_MAX) {
				*error_r = "DNS name too long";
				return -1;
			}
			name[nlen++] = '.';
			name[nlen] = '\0';
		}
		if (name_add_label(name, &nlen, p + cur + 1, l) < 0) {
			*error_r = "DNS name too long in presentation form";
			return -1;
		}
		cur += 1 + (size_t)l;
	}
}

int dns_packet_parse(const unsigned char *p, size_t len, struct dns_message *m,
		     const char **error_r)
{
	memset(m, 0, sizeof(*m));
	if (len < 12) {
		*error_r = "DNS message shorter than its header";
		return -1;
	}
	if (len > DNS_PACKET_MAX) {
		*error_r = "DNS message too long";
		return -1;
	}
	m->id = get16(p);
	m->qr = (p[2] & 0x80) != 0;
	m->opcode = (uint8_t)((p[2] >> 3) & 0x0f);
	m->tc = (p[2] & 0x02) != 0;
	m->rcode = p[3] & 0x0f;
	m->qdcount = get16(p + 4);
	uint16_t ancount = get16(p + 6);
	size_t pos = 12;
	if (m->qdcount > 1) {
		*error_r = "DNS response with more than one question";
		return -1;
	}
	if (m->qdcount == 0) {
		/* Some servers drop the question from a truncated reply. */
		if (!m->tc) {
			*error_r = "DNS response without a question";
			return -1;
		}
		return 0;
	}
	if (read_name(p, len, &pos, m->qname, error_r) < 0)
		return -1;
	if (pos + 4 > len) {
		*error_r = "DNS question cut short";
		return -1;
	}
	m->qtype = get16(p + pos);
	m->qclass = get16(p + pos + 2);
	pos += 4;
	for (uint16_t i = 0; i < ancount; i++) {
		char owner[DNS_NAME_MAX];
		if (read_name(p, len, &pos, owner, error_r) < 0) {
			/* A truncated answer may end anywhere: keep what came whole. */
			if (m->tc)
				return 0;
			return -1;
		}
		if (pos + 10 > len) {
			if (m->tc)
				return 0;
			*error_r = "DNS resource record header cut short";
			return -1;
		}
		uint16_t type = get16(p + pos), class = get16(p + pos + 2);
		uint32_t ttl = get32(p + pos + 4);
		size_t rdlen = get16(p + pos + 8);
		pos += 10;
		if (pos + rdlen > len) {
			if (m->tc)
				return 0;
			*error_r = "DNS record data runs past the end of the packet";
			return -1;
		}
		size_t rdend = pos + rdlen;
		bool keep = class == DNS_CLASS_IN && m->nrrs < DNS_PACKET_MAX_RRS &&
			    (type == DNS_TYPE_A || type == DNS_TYPE_AAAA || type == DNS_TYPE_MX ||
			     type == DNS_TYPE_CNAME || type == DNS_TYPE_PTR || type == DNS_TYPE_TXT);
		if (keep) {
			struct dns_rr *rr = &m->rrs[m->nrrs];
			memset(rr, 0, sizeof(*rr));
			memcpy(rr->owner, owner, sizeof(owner));
			rr->type = type;
			rr->ttl = ttl;
			size_t rp = pos;
			switch (type) {
			case DNS_TYPE_A:
			case DNS_TYPE_AAAA:
				if (rdlen != (type == DNS_TYPE_A ? 4u : 16u)) {
					*error_r = type == DNS_TYPE_A ? "DNS A record not 4 octets"
								      : "DNS AAAA record not 16 octets";
					return -1;
				}
				memcpy(rr->addr, p + pos, rdlen);
				break;
			case DNS_TYPE_MX:
				if (rdlen < 3) {
					*error_r = "DNS MX record too short";
					return -1;
				}
				rr->preference = get16(p + pos);
				rp += 2;
				if (read_name(p, rdend, &rp, rr->target, error_r) < 0)
					return -1;
				if (rp != rdend) {
					*error_r = "DNS record data longer than its name";
					return -1;
				}
				break;
			case DNS_TYPE_TXT:
				/* one or more <character-string>s: a length octet
				 * and that many bytes each */
				rr->txt_off = (uint32_t)m->txt_used;
				while (rp < rdend) {
					size_t n = p[rp++];
					if (rp + n > rdend) {
						*error_r = "DNS TXT string runs past its record";
						return -1;
					}
					if (m->txt_used + n > DNS_TXT_MAX) {
						*error_r = "DNS TXT data too long";
						return -1;
					}
					memcpy(m->txt + m->txt_used, p + rp, n);
					m->txt_used += n;
					rp += n;
				}
				rr->txt_len = (uint32_t)(m->txt_used - rr->txt_off);
				break;
			default:	/* CNAME, PTR */
				if (read_name(p, rdend, &rp, rr->target, error_r) < 0)
					return -1;
				if (rp != rdend) {
					*error_r = "DNS record data longer than its name";
					return -1;
				}
				break;
			}
			m->nrrs++;
		}
		pos = rdend;
	}
	return 0;
}

/* Lower-case one ASCII byte. */
static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

bool dns_name_eq(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (al > 0 && a[al - 1] == '.')
		al--;
	if (bl > 0 && b[bl - 1] == '.')
		bl--;
	if (al != bl)
		return false;
	for (size_t i = 0; i < al; i++) {
		if (lower(a[i]) != lower(b[i]))
			return false;
	}
	return true;
}
