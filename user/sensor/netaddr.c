/* Socket addresses as strings; see netaddr.h. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "sensor/netaddr.h"
#include "base/utf8.h"

int netaddr__is_v4mapped(const uint8_t addr[16])
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(addr, prefix, sizeof(prefix));
}

char *netaddr__format(char *buf, uint16_t family, const uint8_t addr[16])
{
	buf[0] = 0;
	if (family == AF_INET6 && netaddr__is_v4mapped(addr)) {
		family = AF_INET;
		addr += 12;
	}
	if ((family != AF_INET && family != AF_INET6) ||
	    !inet_ntop(family, addr, buf, NETADDR_STRLEN))
		buf[0] = 0;
	return buf;
}

char *netaddr__unix_path(char *buf, const char *path, size_t len, int *escaped)
{
	size_t off = 0;
	int abstract;

	*escaped = 0;
	buf[0] = 0;
	if (len > 108)
		len = 108;
	if (!len)
		return buf;
	abstract = path[0] == 0;
	if (abstract) {
		buf[off++] = '@';
		path++;
		len--;
	} else {
		len = strnlen(path, len);
	}
	/* An abstract name is all its bytes, NULs included: only escaping can show them. */
	if (utf8__valid(path, len) && memchr(path, 0, len) == NULL) {
		memcpy(buf + off, path, len);
		buf[off + len] = 0;
	} else {
		utf8__escape(path, len, buf + off, NETADDR_UNIX_STRLEN - off);
		*escaped = 1;
	}
	return buf;
}
