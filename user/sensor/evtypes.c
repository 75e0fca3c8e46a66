/* Event type names; see evtypes.h. */
#include "firstlight.h"
#include "sensor/evtypes.h"

static const char *const names[FL_EV_MAX] = {
	[FL_EV_EXEC] = "exec",
	[FL_EV_FORK] = "fork",
	[FL_EV_EXIT] = "exit",
	[FL_EV_SEED] = "seed",
	[FL_EV_CGROUP_MKDIR] = "cgroup_mkdir",
	[FL_EV_CGROUP_RMDIR] = "cgroup_rmdir",
	[FL_EV_CGROUP_ATTACH] = "cgroup_attach",
#ifdef FL_EV_TCP
	[FL_EV_TCP] = "tcp",
	[FL_EV_UDP] = "udp",
	[FL_EV_UNIX_CONNECT] = "unix_connect",
	[FL_EV_UNIX_PEER] = "unix_peer",
	[FL_EV_PRIV] = "privilege",
	[FL_EV_FILE] = "file",
	[FL_EV_SOCKET] = "socket",
#endif
};

const char *evtypes__name(unsigned int type)
{
	if (type < FL_EV_MAX && names[type])
		return names[type];
	return "unknown";
}
