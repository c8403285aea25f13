/* Loopback up over rtnetlink (see netns.h).  */
#include "config.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "ns/netns.h"

int
netns_loopback_up (struct husk_err *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct mnl_socket *nl;
  struct nlmsghdr *nlh;
  struct ifinfomsg *ifm;
  unsigned int seq = (unsigned int) time (NULL), portid;
  ssize_t n;
  int ret = -1;

  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = IFF_UP;
  mnl_attr_put_strz (nlh, IFLA_IFNAME, "lo");

  nl = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == NULL)
    return husk_err_set (err, errno, "open rtnetlink socket");
  if (mnl_socket_bind (nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      husk_err_set (err, errno, "bind rtnetlink socket");
      goto out;
    }
  portid = mnl_socket_get_portid (nl);
  if (mnl_socket_sendto (nl, nlh, nlh->nlmsg_len) < 0)
    {
      husk_err_set (err, errno, "bring up 'lo'");
      goto out;
    }
  n = mnl_socket_recvfrom (nl, buf, sizeof buf);
  if (n < 0 || mnl_cb_run (buf, (size_t) n, seq, portid, NULL, NULL) < 0)
    {
      husk_err_set (err, errno, "bring up 'lo'");
      goto out;
    }
  ret = 0;
out:
  mnl_socket_close (nl);
  return ret;
}
