/*
 * multicast.c — group membership options on loopback: IP_ADD_MEMBERSHIP /
 * IP_DROP_MEMBERSHIP with struct ip_mreq and struct ip_mreqn, every short
 * length, non-multicast groups, unknown interfaces, joining twice, dropping
 * what was never joined; source-specific membership (IP_ADD_SOURCE_MEMBERSHIP
 * and friends with struct ip_mreq_source; MCAST_JOIN_GROUP /
 * MCAST_JOIN_SOURCE_GROUP with struct group_req / group_source_req);
 * IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP with struct ipv6_mreq; the multicast
 * interface, TTL and loop options; and a datagram to a joined group.
 * Whatever the kernel says here (lo has no MULTICAST flag) must be the same
 * in every mode. Every join names lo (127.0.0.1 / ifindex 1), never "any":
 * nothing may leave the machine.
 */
#include "check.h"

#include <net/if.h>

#define GROUP4 "239.255.42.1"
#define GROUP6 "ff15::4242"

static struct in_addr ip4(const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    return a;
}

static struct sockaddr_storage ss4(const char *s)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    *(struct sockaddr_in *)&ss = v4(s, 0);
    return ss;
}

static struct sockaddr_storage ss6(const char *s)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    *(struct sockaddr_in6 *)&ss = v6(s, 0);
    return ss;
}

/* Try one membership option at every interesting length. */
static void lengths(int fd, int level, int opt, const char *oname, const void *val, socklen_t good)
{
    const socklen_t lens[] = {0, 1, 4, 7, good - 1, good, good + 1, 0xffffffffu};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        /* Reading past `val` is never asked for: large lengths use a page. */
        const void *p = lens[i] <= good ? val : (const void *)fixed_rw_then_none();
        if (lens[i] > good && lens[i] <= 4096)
            memcpy(fixed_rw_then_none(), val, good);
        CKF(setsockopt(fd, level, opt, p, lens[i]), "setsockopt(%s, len %u of %u)", oname,
            (unsigned)lens[i], (unsigned)good);
        /* Leave again whatever a successful join did. */
        if (errno == 0 && (opt == IP_ADD_MEMBERSHIP || opt == MCAST_JOIN_GROUP ||
                           opt == IPV6_JOIN_GROUP))
            CKF(setsockopt(fd, level,
                           opt == IP_ADD_MEMBERSHIP ? IP_DROP_MEMBERSHIP
                           : opt == IPV6_JOIN_GROUP ? IPV6_LEAVE_GROUP
                                                    : MCAST_LEAVE_GROUP,
                           p, lens[i]),
                "  leave again, len %u", (unsigned)lens[i]);
    }
}

static void ipv4(void)
{
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct ip_mreq mr = {ip4(GROUP4), ip4("127.0.0.1")};
    /* Interface fields always name lo, even when a short length truncates
       the struct: a join on "any" interface would follow the default route
       off the machine. */
    struct ip_mreqn mrn = {ip4(GROUP4), ip4("127.0.0.1"), 1};
    struct ip_mreq_source ms = {ip4(GROUP4), ip4("127.0.0.1"), ip4("127.0.0.1")};
    struct group_req gr;
    struct group_source_req gsr;

    SAY("== IPv4 ip_mreq / ip_mreqn");
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));  /* again */
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr)); /* not a member */
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mrn, sizeof mrn));
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mrn, sizeof mrn));
    lengths(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP ip_mreq", &mr, sizeof mr);
    lengths(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP ip_mreqn", &mrn, sizeof mrn);
    lengths(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, "IP_DROP_MEMBERSHIP ip_mreq", &mr, sizeof mr);
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, NULL, sizeof mr));
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, bad_ptr(), sizeof mr));
    mr.imr_multiaddr = ip4("10.1.2.3");                /* not multicast */
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));
    mr.imr_multiaddr = ip4("224.0.0.1");               /* all-hosts: already joined by lo */
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr));
    mr.imr_multiaddr = ip4(GROUP4);
    mr.imr_interface = ip4("10.255.255.1");            /* no such interface address */
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));
    mr.imr_interface = ip4("127.0.0.1");
    mrn.imr_ifindex = 99999;                           /* no such interface */
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mrn, sizeof mrn));
    mrn.imr_ifindex = 1;
    {
        /* IP_MULTICAST_IF takes in_addr, ip_mreq or ip_mreqn. */
        struct in_addr a = ip4("127.0.0.1"), g;
        socklen_t len = sizeof g;
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a));
        CK(getsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &g, &len));
        SAY("  %s len %u", inet_ntoa(g), (unsigned)len);
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &mrn, sizeof mrn));
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &a, 3));
        a = ip4("10.255.255.1");
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a));
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_LOOP, &(int){0}, sizeof(int)));
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_LOOP, &(int){1}, sizeof(int)));
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_LOOP, &(int){7}, 0));
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_TTL, &(int){-1}, sizeof(int)));
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_TTL, &(int){256}, sizeof(int)));
        CK(setsockopt(u, IPPROTO_IP, IP_MULTICAST_ALL, &(int){0}, sizeof(int)));
    }

    SAY("== IPv4 source-specific");
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms)); /* again */
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));     /* any-source on top */
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr));
    lengths(u, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, "IP_ADD_SOURCE_MEMBERSHIP", &ms, sizeof ms);
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_UNBLOCK_SOURCE, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_UNBLOCK_SOURCE, &ms, sizeof ms));
    CK(setsockopt(u, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr));
    ms.imr_multiaddr = ip4("10.1.2.3");
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    ms.imr_multiaddr = ip4(GROUP4);
    CK(setsockopt(u, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, bad_ptr(), sizeof ms));

    SAY("== IPv4 protocol-independent (group_req / group_source_req)");
    memset(&gr, 0, sizeof gr);
    gr.gr_interface = 1;
    gr.gr_group = ss4(GROUP4);
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_LEAVE_GROUP, &gr, sizeof gr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_LEAVE_GROUP, &gr, sizeof gr));
    lengths(u, IPPROTO_IP, MCAST_JOIN_GROUP, "MCAST_JOIN_GROUP", &gr, sizeof gr);
    gr.gr_group.ss_family = AF_INET6;
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
    gr.gr_group = ss4(GROUP4);
    gr.gr_interface = 99999;
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
    memset(&gsr, 0, sizeof gsr);
    gsr.gsr_interface = 1;
    gsr.gsr_group = ss4(GROUP4);
    gsr.gsr_source = ss4("127.0.0.1");
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_LEAVE_SOURCE_GROUP, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_LEAVE_SOURCE_GROUP, &gsr, sizeof gsr));
    lengths(u, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, "MCAST_JOIN_SOURCE_GROUP", &gsr, sizeof gsr);
    CK(setsockopt(u, IPPROTO_IP, MCAST_LEAVE_SOURCE_GROUP, &gsr, sizeof gsr));
    gsr.gsr_source.ss_family = AF_INET6;
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &gsr, sizeof gsr));
    gsr.gsr_source = ss4("127.0.0.1");
    gsr.gsr_group = ss4("10.1.2.3");
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &gsr, sizeof gsr));
    gsr.gsr_group = ss4(GROUP4);
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_BLOCK_SOURCE, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_UNBLOCK_SOURCE, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_MSFILTER, &gsr, 8));
    {
        /* The source filter as getsockopt reports it (IP_MSFILTER). */
        union {
            struct ip_msfilter f;
            char buf[64];
        } f;
        socklen_t len = sizeof f;
        memset(&f, 0, sizeof f);
        f.f.imsf_multiaddr = ip4(GROUP4);
        f.f.imsf_interface = ip4("127.0.0.1");
        CK(getsockopt(u, IPPROTO_IP, IP_MSFILTER, &f, &len));
        SAY("  fmode %u numsrc %u len %u", f.f.imsf_fmode, f.f.imsf_numsrc, (unsigned)len);
        len = 4;
        CK(getsockopt(u, IPPROTO_IP, IP_MSFILTER, &f, &len));
    }
    /* Three different IPv4 options on an IPv6 socket. */
    {
        int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
        mr.imr_interface = ip4("127.0.0.1");
        CK(setsockopt(u6, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));
        CK(setsockopt(u6, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof mr));
        CK(setsockopt(u6, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms));
        close(u6);
    }
    /* On a stream socket. */
    {
        int t = socket(AF_INET, SOCK_STREAM, 0);
        CK(setsockopt(t, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr));
        CK(setsockopt(t, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
        close(t);
    }
    close(u);
}

static void ipv6(void)
{
    int u = socket(AF_INET6, SOCK_DGRAM, 0);
    struct ipv6_mreq mr;
    struct group_req gr;
    struct group_source_req gsr;

    SAY("== IPv6 ipv6_mreq");
    memset(&mr, 0, sizeof mr);
    inet_pton(AF_INET6, GROUP6, &mr.ipv6mr_multiaddr);
    mr.ipv6mr_interface = 1;
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof mr));
    lengths(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, "IPV6_JOIN_GROUP", &mr, sizeof mr);
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, NULL, sizeof mr));
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, bad_ptr(), sizeof mr));
    mr.ipv6mr_interface = 99999;
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr));
    mr.ipv6mr_interface = 1;
    inet_pton(AF_INET6, "2001:db8::1", &mr.ipv6mr_multiaddr); /* not multicast */
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr));
    inet_pton(AF_INET6, "ff02::1", &mr.ipv6mr_multiaddr);     /* all-nodes */
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr));
    CK(setsockopt(u, IPPROTO_IPV6, IPV6_LEAVE_GROUP, &mr, sizeof mr));
    {
        int v = 1;
        socklen_t len = sizeof v;
        CK(setsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_IF, &(int){1}, sizeof(int)));
        CK(getsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, &len));
        SAY("  ifindex %d", v);
        CK(setsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_IF, &(int){99999}, sizeof(int)));
        CK(setsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &(int){2}, sizeof(int)));
        CK(setsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &(int){-1}, sizeof(int)));
        CK(setsockopt(u, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &(int){0}, sizeof(int)));
    }

    SAY("== IPv6 group_req / group_source_req");
    memset(&gr, 0, sizeof gr);
    gr.gr_interface = 1;
    gr.gr_group = ss6(GROUP6);
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_JOIN_GROUP, &gr, sizeof gr));
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_LEAVE_GROUP, &gr, sizeof gr));
    lengths(u, IPPROTO_IPV6, MCAST_JOIN_GROUP, "MCAST_JOIN_GROUP v6", &gr, sizeof gr);
    gr.gr_group = ss4(GROUP4);                     /* IPv4 group on IPv6 socket */
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_JOIN_GROUP, &gr, sizeof gr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof gr));
    CK(setsockopt(u, IPPROTO_IP, MCAST_LEAVE_GROUP, &gr, sizeof gr));
    memset(&gsr, 0, sizeof gsr);
    gsr.gsr_interface = 1;
    gsr.gsr_group = ss6(GROUP6);
    gsr.gsr_source = ss6("::1");
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_LEAVE_SOURCE_GROUP, &gsr, sizeof gsr));
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_LEAVE_SOURCE_GROUP, &gsr, sizeof gsr));
    lengths(u, IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, "MCAST_JOIN_SOURCE_GROUP v6", &gsr,
            sizeof gsr);
    CK(setsockopt(u, IPPROTO_IPV6, MCAST_LEAVE_SOURCE_GROUP, &gsr, sizeof gsr));
    close(u);
}

/* Join a group on lo and send to it from another socket. */
static void delivery(void)
{
    struct sockaddr_storage ra;
    socklen_t rlen;
    int r, s;
    struct ip_mreqn mrn = {ip4(GROUP4), ip4("127.0.0.1"), 1};
    struct sockaddr_in any = v4("0.0.0.0", 0), grp;
    char buf[16];

    SAY("== delivery");
    r = socket(AF_INET, SOCK_DGRAM, 0);
    CK(setsockopt(r, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int)));
    CK(bind(r, (struct sockaddr *)&any, sizeof any));
    rlen = sizeof ra;
    getsockname(r, (struct sockaddr *)&ra, &rlen);
    CK(setsockopt(r, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mrn, sizeof mrn));
    s = socket(AF_INET, SOCK_DGRAM, 0);
    CK(setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mrn, sizeof mrn));
    grp = v4(GROUP4, ((struct sockaddr_in *)&ra)->sin_port);
    CK(sendto(s, "mcast", 5, 0, (struct sockaddr *)&grp, sizeof grp));
    settle();
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &(int){0}, sizeof(int)));
    CK(sendto(s, "quiet", 5, 0, (struct sockaddr *)&grp, sizeof grp));
    settle();
    CK(recv(r, buf, sizeof buf, MSG_DONTWAIT));
    CK(setsockopt(r, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mrn, sizeof mrn));
    close(s);
    close(r);
}

int main(void)
{
    ck_init();
    ipv4();
    ipv6();
    delivery();
    return 0;
}
