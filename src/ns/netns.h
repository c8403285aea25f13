/* The network namespace: bring the loopback interface up (rtnetlink through libmnl).
 * config-linux.md "Namespaces" (network): a new network namespace has only lo.  */
#ifndef HUSK_NETNS_H
#define HUSK_NETNS_H

#include "error.h"

/* Set IFF_UP on "lo" in the calling process's network namespace (RTM_NEWLINK, acked).
 * Returns 0, or -1 with ERR.  */
int netns_loopback_up (struct husk_err *err);

#endif
