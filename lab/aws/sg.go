package aws

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Rule is one security group rule, as EC2 stores them: one protocol and
// port range, one direction, one peer (an IPv4 or IPv6 range, another group
// or a prefix list).
type Rule struct {
	ID       string // sgr-...; assigned when empty
	Egress   bool
	Protocol string // tcp, udp, icmp, icmpv6, -1 (all) or a protocol number
	// FromPort and ToPort bound the port range for tcp and udp, the ICMP
	// type and code for icmp; they are -1 for protocols without ports.
	FromPort, ToPort int
	CIDR             string
	CIDRv6           string
	Group            string // a referenced security group id
	PrefixList       string
	Description      string
}

// SecurityGroup is an EC2 security group as seeded and as read back.
type SecurityGroup struct {
	ID          string // sg-..., required
	Name        string
	Description string
	VPC         string
	Rules       []Rule
	Tags        map[string]string
}

type securityGroup struct {
	SecurityGroup
}

// AddSecurityGroup seeds a security group and its rules.
func (s *Server) AddSecurityGroup(g SecurityGroup) error {
	if !strings.HasPrefix(g.ID, "sg-") || len(g.ID) < 4 {
		return fmt.Errorf("lab/aws: security group id %q: expected sg- followed by an id", g.ID)
	}
	if g.Name == "" {
		g.Name = g.ID
	}
	rules := make([]Rule, 0, len(g.Rules))
	for i, r := range g.Rules {
		r, msg := normalRule(r)
		if msg != "" {
			return fmt.Errorf("lab/aws: security group %s rule %d: %s", g.ID, i+1, msg)
		}
		if r.ID == "" {
			r.ID = ruleID()
		}
		rules = append(rules, r)
	}
	g.Rules = rules
	g.Tags = copyTags(g.Tags)
	return seed(s, s.groups, "security group", g.ID, &securityGroup{SecurityGroup: g}, func() { s.grpOrder = sortedInsert(s.grpOrder, g.ID) })
}

// SecurityGroup returns a copy of a group's current rules.
func (s *Server) SecurityGroup(id string) (SecurityGroup, bool) {
	return readBack(s, s.groups, id, func(g *securityGroup) SecurityGroup {
		out := g.SecurityGroup
		out.Rules = append([]Rule(nil), g.Rules...)
		out.Tags = copyTags(g.Tags)
		return out
	})
}

func ruleID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "sgr-" + hex.EncodeToString(b[:])[:17]
}

var protocolNames = map[string]string{"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}

// normalRule checks r and puts it in the form EC2 reports, or says what is
// wrong with it.
func normalRule(r Rule) (Rule, string) {
	r.Protocol = strings.ToLower(r.Protocol)
	if name, ok := protocolNames[r.Protocol]; ok {
		r.Protocol = name
	}
	switch r.Protocol {
	case "tcp", "udp":
		if r.FromPort < 0 || r.ToPort > 65535 || r.FromPort > r.ToPort {
			return r, fmt.Sprintf("port range %d-%d: expected 0 to 65535, from not above to", r.FromPort, r.ToPort)
		}
	case "icmp", "icmpv6":
		if r.FromPort < -1 || r.FromPort > 255 || r.ToPort < -1 || r.ToPort > 255 {
			return r, fmt.Sprintf("ICMP type %d code %d: expected -1 to 255", r.FromPort, r.ToPort)
		}
	case "-1":
		r.FromPort, r.ToPort = -1, -1
	default:
		n, err := strconv.Atoi(r.Protocol)
		if err != nil || n < 0 || n > 255 {
			return r, fmt.Sprintf("protocol %q: expected tcp, udp, icmp, icmpv6, -1 or a number from 0 to 255", r.Protocol)
		}
		r.FromPort, r.ToPort = -1, -1
	}
	peers := 0
	for _, p := range []string{r.CIDR, r.CIDRv6, r.Group, r.PrefixList} {
		if p != "" {
			peers++
		}
	}
	if peers != 1 {
		return r, "expected exactly one of CIDR, CIDRv6, Group, PrefixList"
	}
	if r.CIDR != "" {
		if ip, _, err := net.ParseCIDR(r.CIDR); err != nil || ip.To4() == nil {
			return r, fmt.Sprintf("CIDR block %s is malformed", r.CIDR)
		}
	}
	if r.CIDRv6 != "" {
		if ip, _, err := net.ParseCIDR(r.CIDRv6); err != nil || ip.To4() != nil {
			return r, fmt.Sprintf("IPv6 CIDR block %s is malformed", r.CIDRv6)
		}
	}
	return r, ""
}

// key identifies a rule regardless of its id and description, as EC2
// matches rules to revoke and finds duplicates.
func (r Rule) key() string {
	return fmt.Sprintf("%v|%s|%d|%d|%s|%s|%s|%s", r.Egress, r.Protocol, r.FromPort, r.ToPort, r.CIDR, r.CIDRv6, r.Group, r.PrefixList)
}

// permissionRules reads IpPermissions.N (and the legacy top-level
// IpProtocol/FromPort/ToPort/CidrIp) into one rule per peer.
func permissionRules(form url.Values, egress bool) ([]Rule, *apiError) {
	var rules []Rule
	add := func(p, name string, from, to string, peerKey func(m string) (Rule, bool)) *apiError {
		base := Rule{Egress: egress, Protocol: form.Get(p + "IpProtocol")}
		if base.Protocol == "" {
			return &apiError{status: 400, code: "MissingParameter", msg: fmt.Sprintf("The request must contain the parameter %sIpProtocol", p)}
		}
		var err error
		base.FromPort, base.ToPort = -1, -1
		if from != "" {
			if base.FromPort, err = strconv.Atoi(from); err != nil {
				return errInvalidParameter(fmt.Sprintf("Value (%s) for parameter %sFromPort is invalid", from, p))
			}
		}
		if to != "" {
			if base.ToPort, err = strconv.Atoi(to); err != nil {
				return errInvalidParameter(fmt.Sprintf("Value (%s) for parameter %sToPort is invalid", to, p))
			}
		}
		if (base.Protocol == "tcp" || base.Protocol == "udp" || base.Protocol == "6" || base.Protocol == "17") && (from == "" || to == "") {
			return errInvalidParameter(fmt.Sprintf("Invalid value for portRange in %s. Must specify both from and to ports with TCP/UDP.", name))
		}
		found := 0
		for _, m := range []string{"IpRanges", "Ipv6Ranges", "Groups", "PrefixListIds"} {
			for _, i := range members(form, p+m) {
				r, ok := peerKey(fmt.Sprintf("%s%s.%d.", p, m, i))
				if !ok {
					continue
				}
				r.Egress, r.Protocol, r.FromPort, r.ToPort = base.Egress, base.Protocol, base.FromPort, base.ToPort
				norm, msg := normalRule(r)
				if msg != "" {
					return errInvalidParameter(name + ": " + msg)
				}
				rules = append(rules, norm)
				found++
			}
		}
		if found == 0 {
			return errInvalidParameter(name + ": no IpRanges, Ipv6Ranges, Groups or PrefixListIds")
		}
		return nil
	}
	peer := func(m string) (Rule, bool) {
		r := Rule{
			CIDR: form.Get(m + "CidrIp"), CIDRv6: form.Get(m + "CidrIpv6"),
			Group: form.Get(m + "GroupId"), PrefixList: form.Get(m + "PrefixListId"),
			Description: form.Get(m + "Description"),
		}
		return r, r.CIDR != "" || r.CIDRv6 != "" || r.Group != "" || r.PrefixList != ""
	}
	for _, i := range members(form, "IpPermissions") {
		p := "IpPermissions." + strconv.Itoa(i) + "."
		if aerr := add(p, "IpPermissions."+strconv.Itoa(i), form.Get(p+"FromPort"), form.Get(p+"ToPort"), peer); aerr != nil {
			return nil, aerr
		}
	}
	if cidr := form.Get("CidrIp"); cidr != "" {
		r, msg := normalRule(Rule{Egress: egress, Protocol: form.Get("IpProtocol"), FromPort: atoiOr(form.Get("FromPort"), -1), ToPort: atoiOr(form.Get("ToPort"), -1), CIDR: cidr})
		if msg != "" {
			return nil, errInvalidParameter(msg)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// group resolves GroupId. Callers hold s.mu.
func (s *Server) group(form url.Values) (*securityGroup, *apiError) {
	id := form.Get("GroupId")
	if id == "" {
		return nil, &apiError{status: 400, code: "MissingParameter", msg: "The request must contain the parameter GroupId"}
	}
	if !strings.HasPrefix(id, "sg-") {
		return nil, &apiError{status: 400, code: "InvalidGroupId.Malformed", msg: fmt.Sprintf("Invalid id: %q (expecting \"sg-...\")", id)}
	}
	g, ok := s.groups[id]
	if !ok {
		return nil, &apiError{status: 400, code: "InvalidGroup.NotFound", msg: fmt.Sprintf("The security group '%s' does not exist", id)}
	}
	return g, nil
}

// groupRules resolves the group an Authorize or Revoke action names and the
// rules it lists. Callers hold s.mu.
func (s *Server) groupRules(action string, form url.Values) (*securityGroup, []Rule, *apiError) {
	g, aerr := s.group(form)
	if aerr != nil {
		return nil, nil, aerr
	}
	rules, aerr := permissionRules(form, strings.HasSuffix(action, "Egress"))
	if aerr != nil {
		return nil, nil, aerr
	}
	return g, rules, nil
}

func (s *Server) authorizeRules(c *call, action string, form url.Values) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, rules, aerr := s.groupRules(action, form)
	if aerr != nil {
		return nil, aerr
	}
	if len(rules) == 0 {
		return nil, &apiError{status: 400, code: "MissingParameter", msg: "The request must contain the parameter IpPermissions"}
	}
	have := map[string]bool{}
	for _, r := range g.Rules {
		have[r.key()] = true
	}
	for _, r := range rules {
		if have[r.key()] {
			return nil, &apiError{status: 400, code: "InvalidPermission.Duplicate", msg: fmt.Sprintf("the specified rule %q already exists in %s", describeRule(r), g.ID)}
		}
		have[r.key()] = true
	}
	if aerr := dryRun(form); aerr != nil {
		return nil, aerr
	}
	added := make([]ruleXML, 0, len(rules))
	for i := range rules {
		rules[i].ID = ruleID()
		g.Rules = append(g.Rules, rules[i])
		added = append(added, s.ruleXML(g, rules[i]))
	}
	return struct {
		XMLName   xml.Name
		NS        string    `xml:"xmlns,attr"`
		RequestID string    `xml:"requestId"`
		Return    bool      `xml:"return"`
		Rules     []ruleXML `xml:"securityGroupRuleSet>item"`
	}{XMLName: xml.Name{Local: action + "Response"}, NS: ec2NS, RequestID: c.reqID, Return: true, Rules: added}, nil
}

func describeRule(r Rule) string {
	peer := r.CIDR + r.CIDRv6 + r.Group + r.PrefixList
	return fmt.Sprintf("peer: %s, %s, from port: %d, to port: %d, ALLOW", peer, strings.ToUpper(r.Protocol), r.FromPort, r.ToPort)
}

func (s *Server) revokeRules(c *call, action string, form url.Values) (any, *apiError) {
	egress := strings.HasSuffix(action, "Egress")
	ids := indexed(form, "SecurityGroupRuleId")
	s.mu.Lock()
	defer s.mu.Unlock()
	g, rules, aerr := s.groupRules(action, form)
	if aerr != nil {
		return nil, aerr
	}
	if len(rules) == 0 && len(ids) == 0 {
		return nil, &apiError{status: 400, code: "MissingParameter", msg: "The request must contain the parameter IpPermissions or SecurityGroupRuleId"}
	}
	drop := map[string]bool{} // rule ids to remove
	byKey := map[string]string{}
	byID := map[string]bool{}
	for _, r := range g.Rules {
		byKey[r.key()] = r.ID
		byID[r.ID] = r.Egress == egress
	}
	for _, id := range ids {
		if !byID[id] {
			return nil, &apiError{status: 400, code: "InvalidSecurityGroupRuleId.NotFound", msg: fmt.Sprintf("The security group rule ID '%s' does not exist in %s %s rules", id, g.ID, direction(egress))}
		}
		drop[id] = true
	}
	var unknown []Rule
	for _, r := range rules {
		if id, ok := byKey[r.key()]; ok {
			drop[id] = true
		} else {
			unknown = append(unknown, r)
		}
	}
	if len(drop) == 0 {
		return nil, &apiError{status: 400, code: "InvalidPermission.NotFound", msg: fmt.Sprintf("The specified rule does not exist in this security group: %s", describeRule(unknown[0]))}
	}
	if aerr := dryRun(form); aerr != nil {
		return nil, aerr
	}
	kept := g.Rules[:0:0]
	for _, r := range g.Rules {
		if !drop[r.ID] {
			kept = append(kept, r)
		}
	}
	g.Rules = kept
	return struct {
		XMLName   xml.Name
		NS        string          `xml:"xmlns,attr"`
		RequestID string          `xml:"requestId"`
		Return    bool            `xml:"return"`
		Unknown   []permissionXML `xml:"unknownIpPermissionSet>item"`
	}{XMLName: xml.Name{Local: action + "Response"}, NS: ec2NS, RequestID: c.reqID, Return: true, Unknown: permissionsXML(unknown)}, nil
}

func direction(egress bool) string {
	if egress {
		return "egress"
	}
	return "ingress"
}

type peerXML struct {
	CIDR        string `xml:"cidrIp,omitempty"`
	CIDRv6      string `xml:"cidrIpv6,omitempty"`
	GroupID     string `xml:"groupId,omitempty"`
	PrefixList  string `xml:"prefixListId,omitempty"`
	Description string `xml:"description,omitempty"`
}

type permissionXML struct {
	Protocol    string    `xml:"ipProtocol"`
	FromPort    *int      `xml:"fromPort"`
	ToPort      *int      `xml:"toPort"`
	Groups      []peerXML `xml:"groups>item"`
	IPRanges    []peerXML `xml:"ipRanges>item"`
	IPv6Ranges  []peerXML `xml:"ipv6Ranges>item"`
	PrefixLists []peerXML `xml:"prefixListIds>item"`
}

// permissionsXML groups rules into IpPermissions by protocol and port
// range, in the order the ranges first appear, as EC2 reports them.
func permissionsXML(rules []Rule) []permissionXML {
	var out []permissionXML
	index := map[string]int{}
	for _, r := range rules {
		k := fmt.Sprintf("%s|%d|%d", r.Protocol, r.FromPort, r.ToPort)
		i, ok := index[k]
		if !ok {
			p := permissionXML{Protocol: r.Protocol}
			if r.Protocol != "-1" && (r.FromPort != -1 || r.ToPort != -1 || strings.HasPrefix(r.Protocol, "icmp")) {
				from, to := r.FromPort, r.ToPort
				p.FromPort, p.ToPort = &from, &to
			}
			out = append(out, p)
			i = len(out) - 1
			index[k] = i
		}
		p := &out[i]
		peer := peerXML{Description: r.Description}
		switch {
		case r.CIDR != "":
			peer.CIDR = r.CIDR
			p.IPRanges = append(p.IPRanges, peer)
		case r.CIDRv6 != "":
			peer.CIDRv6 = r.CIDRv6
			p.IPv6Ranges = append(p.IPv6Ranges, peer)
		case r.Group != "":
			peer.GroupID = r.Group
			p.Groups = append(p.Groups, peer)
		default:
			peer.PrefixList = r.PrefixList
			p.PrefixLists = append(p.PrefixLists, peer)
		}
	}
	return out
}

type groupInfoXML struct {
	OwnerID     string          `xml:"ownerId"`
	GroupID     string          `xml:"groupId"`
	GroupName   string          `xml:"groupName"`
	Description string          `xml:"groupDescription"`
	VpcID       string          `xml:"vpcId,omitempty"`
	ARN         string          `xml:"securityGroupArn"`
	Ingress     []permissionXML `xml:"ipPermissions>item"`
	Egress      []permissionXML `xml:"ipPermissionsEgress>item"`
	Tags        []ec2TagXML     `xml:"tagSet>item"`
}

func split(rules []Rule) (ingress, egress []Rule) {
	for _, r := range rules {
		if r.Egress {
			egress = append(egress, r)
		} else {
			ingress = append(ingress, r)
		}
	}
	return ingress, egress
}

// groupFields are the security group filters besides tags.
var groupFields = fieldSet[*securityGroup]{
	"group-id":    func(g *securityGroup) []string { return one(g.ID) },
	"group-name":  func(g *securityGroup) []string { return one(g.Name) },
	"vpc-id":      func(g *securityGroup) []string { return one(g.VPC) },
	"description": func(g *securityGroup) []string { return one(g.Description) },
	"ip-permission.cidr": func(g *securityGroup) []string {
		ingress, _ := split(g.Rules)
		return ruleValues(ingress, func(r Rule) string { return r.CIDR })
	},
	"ip-permission.protocol": func(g *securityGroup) []string {
		ingress, _ := split(g.Rules)
		return ruleValues(ingress, func(r Rule) string { return r.Protocol })
	},
	"egress.ip-permission.cidr": func(g *securityGroup) []string {
		_, egress := split(g.Rules)
		return ruleValues(egress, func(r Rule) string { return r.CIDR })
	},
}

func ruleValues(rules []Rule, field func(Rule) string) []string {
	var out []string
	for _, r := range rules {
		if v := field(r); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (s *Server) describeSecurityGroups(c *call, form url.Values) (any, *apiError) {
	ids := indexed(form, "GroupId")
	names := indexed(form, "GroupName")
	filters, limit, after, aerr := describeArgs(groupFields, form, len(ids)+len(names) > 0, "groupId")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var candidates []*securityGroup
	for _, id := range ids {
		g, ok := s.groups[id]
		if !ok {
			return nil, &apiError{status: 400, code: "InvalidGroup.NotFound", msg: fmt.Sprintf("The security group '%s' does not exist", id)}
		}
		candidates = append(candidates, g)
	}
	for _, name := range names {
		found := false
		for _, id := range s.grpOrder {
			if g := s.groups[id]; g.Name == name {
				candidates = append(candidates, g)
				found = true
			}
		}
		if !found {
			return nil, &apiError{status: 400, code: "InvalidGroup.NotFound", msg: fmt.Sprintf("The security group '%s' does not exist", name)}
		}
	}
	if len(ids)+len(names) == 0 {
		start := sort.SearchStrings(s.grpOrder, after)
		if after != "" && start < len(s.grpOrder) && s.grpOrder[start] == after {
			start++
		}
		for _, id := range s.grpOrder[start:] {
			candidates = append(candidates, s.groups[id])
		}
	}
	out, next := cursorPage(candidates, limit,
		func(g *securityGroup) bool { return groupFields.match(filters, g, g.Tags) },
		func(g *securityGroup) string { return g.ID },
		func(g *securityGroup) groupInfoXML {
			ingress, egress := split(g.Rules)
			return groupInfoXML{
				OwnerID: s.opts.Account, GroupID: g.ID, GroupName: g.Name, Description: g.Description, VpcID: g.VPC,
				ARN:     s.arn("ec2", "security-group/"+g.ID),
				Ingress: permissionsXML(ingress), Egress: permissionsXML(egress), Tags: tagsXML(g.Tags),
			}
		})
	return struct {
		XMLName   xml.Name       `xml:"DescribeSecurityGroupsResponse"`
		NS        string         `xml:"xmlns,attr"`
		RequestID string         `xml:"requestId"`
		Groups    []groupInfoXML `xml:"securityGroupInfo>item"`
		NextToken string         `xml:"nextToken,omitempty"`
	}{NS: ec2NS, RequestID: c.reqID, Groups: out, NextToken: next}, nil
}

type ruleXML struct {
	ID          string   `xml:"securityGroupRuleId"`
	GroupID     string   `xml:"groupId"`
	OwnerID     string   `xml:"groupOwnerId"`
	ARN         string   `xml:"securityGroupRuleArn"`
	Egress      bool     `xml:"isEgress"`
	Protocol    string   `xml:"ipProtocol"`
	FromPort    int      `xml:"fromPort"`
	ToPort      int      `xml:"toPort"`
	CIDR        string   `xml:"cidrIpv4,omitempty"`
	CIDRv6      string   `xml:"cidrIpv6,omitempty"`
	PrefixList  string   `xml:"prefixListId,omitempty"`
	Referenced  *peerXML `xml:"referencedGroupInfo"`
	Description string   `xml:"description,omitempty"`
}

func (s *Server) ruleXML(g *securityGroup, r Rule) ruleXML {
	out := ruleXML{
		ID: r.ID, GroupID: g.ID, OwnerID: s.opts.Account, Egress: r.Egress, Protocol: r.Protocol,
		ARN:      s.arn("ec2", "security-group-rule/"+r.ID),
		FromPort: r.FromPort, ToPort: r.ToPort, CIDR: r.CIDR, CIDRv6: r.CIDRv6, PrefixList: r.PrefixList,
		Description: r.Description,
	}
	if r.Group != "" {
		out.Referenced = &peerXML{GroupID: r.Group}
	}
	return out
}

// ruleFields are the security group rule filters.
var ruleFields = fieldSet[ruleOf]{
	"group-id":               func(r ruleOf) []string { return one(r.g.ID) },
	"security-group-rule-id": func(r ruleOf) []string { return one(r.r.ID) },
}

type ruleOf struct {
	g *securityGroup
	r Rule
}

func (s *Server) describeSecurityGroupRules(c *call, form url.Values) (any, *apiError) {
	ids := indexed(form, "SecurityGroupRuleId")
	filters, limit, after, aerr := describeArgs(ruleFields, form, len(ids) > 0, "SecurityGroupRuleIds")
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []ruleOf
	for _, id := range s.grpOrder {
		for _, r := range s.groups[id].Rules {
			all = append(all, ruleOf{s.groups[id], r})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].r.ID < all[j].r.ID })
	if len(ids) > 0 {
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		picked := all[:0:0]
		for _, ro := range all {
			if want[ro.r.ID] {
				picked = append(picked, ro)
				delete(want, ro.r.ID)
			}
		}
		for _, id := range ids {
			if want[id] {
				return nil, &apiError{status: 400, code: "InvalidSecurityGroupRuleId.NotFound", msg: fmt.Sprintf("The security group rule ID '%s' does not exist", id)}
			}
		}
		all = picked
	}
	out, next := cursorPage(all, limit,
		func(ro ruleOf) bool { return ro.r.ID > after && ruleFields.match(filters, ro, nil) },
		func(ro ruleOf) string { return ro.r.ID },
		func(ro ruleOf) ruleXML { return s.ruleXML(ro.g, ro.r) })
	return struct {
		XMLName   xml.Name  `xml:"DescribeSecurityGroupRulesResponse"`
		NS        string    `xml:"xmlns,attr"`
		RequestID string    `xml:"requestId"`
		Rules     []ruleXML `xml:"securityGroupRuleSet>item"`
		NextToken string    `xml:"nextToken,omitempty"`
	}{NS: ec2NS, RequestID: c.reqID, Rules: out, NextToken: next}, nil
}
