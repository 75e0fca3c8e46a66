/*
 * Rendering socket addresses for records: IPv4 dotted, IPv6 as inet_ntop writes it, and
 * an IPv4 peer reached through an AF_INET6 socket (::ffff:a.b.c.d, v4-mapped) as the IPv4
 * address it is, so one peer has one spelling whichever socket family talked to it.
 * Unix socket paths: a filesystem path up to its NUL, an abstract name as "@name".
 */
#ifndef FL_NETADDR_H
#define FL_NETADDR_H

#include <stddef.h>
#include <stdint.h>

#define NETADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
/* A unix path escaped in the worst case (4 bytes per byte), '@' and NUL. */
#define NETADDR_UNIX_STRLEN (4 * 108 + 2)

/*
 * Writes the address (network byte order: 4 bytes for AF_INET, 16 for AF_INET6) into buf
 * (NETADDR_STRLEN bytes). Returns buf; an unknown family gives "".
 */
char *netaddr__format(char *buf, uint16_t family, const uint8_t addr[16]);

/* Whether a 16-byte IPv6 address is v4-mapped (::ffff:0:0/96). */
int netaddr__is_v4mapped(const uint8_t addr[16]);

/*
 * Renders sun_path bytes as given to connect (len <= 108) into buf (NETADDR_UNIX_STRLEN
 * bytes): a path up to its first NUL; an abstract name (leading NUL) as '@' and the rest,
 * all len - 1 bytes of it. Bytes that are not UTF-8, and NULs inside an abstract name,
 * are escaped as utf8.h says, and *escaped set. Returns buf.
 */
char *netaddr__unix_path(char *buf, const char *path, size_t len, int *escaped);

#endif
