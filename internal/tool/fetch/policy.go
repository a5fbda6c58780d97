package fetch

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// ErrBlocked is wrapped by every refusal of the destination policy, so
// callers can tell a refused URL from a network failure with errors.Is.
var ErrBlocked = errors.New("destination not allowed")

// blockedError explains why a destination was refused.
type blockedError struct{ reason string }

func (e *blockedError) Error() string { return "fetch: " + e.reason + ": " + ErrBlocked.Error() }
func (e *blockedError) Unwrap() error { return ErrBlocked }

func blocked(format string, args ...any) error {
	return &blockedError{reason: fmt.Sprintf(format, args...)}
}

// blockedPrefixes are the networks a fetch may never reach unless private
// destinations are explicitly allowed.
var blockedPrefixes = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		// IPv4
		"0.0.0.0/8",       // "this network", unspecified
		"10.0.0.0/8",      // private
		"100.64.0.0/10",   // carrier-grade NAT
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local (cloud metadata lives here)
		"172.16.0.0/12",   // private
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // TEST-NET-1
		"192.88.99.0/24",  // 6to4 relay anycast
		"192.168.0.0/16",  // private
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // TEST-NET-2
		"203.0.113.0/24",  // TEST-NET-3
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, including broadcast
		// IPv6
		"::/96",         // unspecified, loopback, deprecated IPv4-compatible
		"100::/64",      // discard-only
		"2001::/23",     // IETF protocol assignments (Teredo, ORCHID, ...)
		"2001:db8::/32", // documentation
		"fc00::/7",      // unique local addresses
		"fe80::/10",     // link-local
		"fec0::/10",     // site-local (deprecated)
		"ff00::/8",      // multicast
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// Ranges that embed an IPv4 address, checked through it.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// CheckIP reports whether ip is a public unicast address a fetch may reach.
// It refuses private, loopback, link-local, multicast, unspecified, CGNAT
// and reserved IPv4 ranges; IPv6 loopback, unspecified, unique-local,
// link-local, site-local, multicast and documentation ranges; and any IPv6
// form that embeds a refused IPv4 address (IPv4-mapped, NAT64, 6to4).
func CheckIP(ip netip.Addr) error {
	if !ip.IsValid() {
		return blocked("invalid address")
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return checkEmbedded(ip, netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixTo4.Contains(ip):
			return checkEmbedded(ip, netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return blocked("address %s is in the non-public range %s", ip, p)
		}
	}
	return nil
}

// checkEmbedded refuses outer when the IPv4 address it embeds is refused.
func checkEmbedded(outer, inner netip.Addr) error {
	if err := CheckIP(inner); err != nil {
		return blocked("address %s embeds the non-public IPv4 address %s", outer, inner)
	}
	return nil
}

// CheckURL validates what can be checked without a DNS lookup: the scheme
// (http or https only), the presence of a host, the absence of user
// information, and, unless allowPrivate, a literal IP host.
func CheckURL(u *url.URL, allowPrivate bool) error {
	if u == nil {
		return blocked("no URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return blocked("scheme %q is not http or https", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return blocked("URL %q has no host", u.Redacted())
	}
	if u.User != nil {
		return blocked("URLs with credentials are not fetched")
	}
	if allowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return CheckIP(ip)
	}
	if isLocalName(host) {
		return blocked("host %q is a local name", host)
	}
	return nil
}

// isLocalName reports names that only make sense inside a private network;
// they are refused without a lookup. Names that resolve to private
// addresses are caught at dial time whatever their spelling.
func isLocalName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || !strings.Contains(h, ".") && !strings.Contains(h, ":")
}
