package targets

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// Most attacks are bounded at four hours: long enough for any game day, short
// enough that a forgotten one (and its dead man's switch) ends the same day.
const defaultMax = 4 * time.Hour

// builtinKinds declares every kind. It builds new values on each call so no
// two catalogues share a kind.
func builtinKinds() []*Kind {
	linux := linuxKinds()
	kinds := append(linux, labKinds()...)
	// ssm-command runs the lab kinds too, so the lab's instances take the
	// same faults through Run Command as through SSH.
	return append(kinds, awsKinds(kinds)...)
}

// Params that several kinds share, declared once so they read the same
// everywhere.

func interfaceParam(help string) ParamSpec {
	return ParamSpec{Name: "interface", Type: TypeInterface, Required: true, Help: help}
}

func destinationParam() ParamSpec {
	return ParamSpec{Name: "destination", Type: TypeCIDR,
		Help: "only traffic to this network or address; leave it out for all traffic on the interface"}
}

func portParam(help string) ParamSpec {
	return ParamSpec{Name: "port", Type: TypePort, Help: help}
}

// spareControlParam: by default a network fault leaves gameday's own SSH
// session to the host alone, so gameday can still watch and revert it.
func spareControlParam() ParamSpec {
	return ParamSpec{Name: "spare_control", Type: TypeBool, Default: "true",
		Help: "keep gameday's own SSH session to the host out of the fault; false cuts it too when the fault covers it, and gameday then loses the host until the dead man's switch ends the fault (duration plus grace)"}
}

func protocolParam(help string) ParamSpec {
	return ParamSpec{Name: "protocol", Type: TypeEnum, Enum: []string{"tcp", "udp", "all"}, Default: "all", Help: help}
}

// victimParams find a process by its exact name or by the pid in a pidfile;
// exactly one of them (see the exactlyOne rule).
func victimParams() []ParamSpec {
	return []ParamSpec{
		{Name: "name", Type: TypeProcess, Help: "exact process name (as ps -o comm shows it); every process of that name is hit"},
		{Name: "pidfile", Type: TypePath, Help: "file holding the pid of the one process to hit"},
	}
}

func linuxKinds() []*Kind {
	return []*Kind{
		{
			Name: "cpu", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"stress-ng"},
			Summary: "Burn CPU with stress-ng workers.",
			Params: []ParamSpec{
				{Name: "workers", Type: TypeInt, Default: "0", Min: "0", Max: "1024", Help: "CPU workers to start; 0 starts one per core"},
				{Name: "load", Type: TypePercent, Default: "100", Min: "1", Help: "load each worker puts on its core"},
			},
		},
		{
			Name: "memory", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"stress-ng"},
			Summary: "Allocate memory and keep it resident.",
			Params: []ParamSpec{
				{Name: "size", Type: TypeBytes, Required: true, Min: "1MiB", PercentOf: "total memory", Help: "memory to take, such as 3GiB or 80% (of total memory)"},
			},
		},
		{
			Name: "io", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"stress-ng"},
			Summary: "Load the disk with stress-ng write/read workers.",
			Params: []ParamSpec{
				{Name: "workers", Type: TypeInt, Default: "4", Min: "1", Max: "64", Help: "IO workers to start"},
				{Name: "path", Type: TypePath, Default: "/tmp", Help: "directory on the file system to load; the workers' scratch files go here"},
			},
		},
		{
			Name: "disk-fill", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"fallocate"},
			Summary: "Fill a file system with one large file, removed on rollback.",
			Params: []ParamSpec{
				{Name: "path", Type: TypePath, Required: true, Help: "directory on the file system to fill; the fill file is created here"},
				{Name: "size", Type: TypeBytes, Required: true, Min: "1MiB", PercentOf: "the file system",
					Help: "space to take, such as 20GiB, or a percentage: fill until the file system is that full (never past what is free)"},
				{Name: "max_fill", Type: TypePercent, Default: "95", Min: "1",
					Help: "the fullest the host lets the file system get: the fill stops there, and the inject refuses if the file system is already that full"},
			},
			rules: []rule{fillWithinMax("size", "max_fill")},
		},
		{
			Name: "process-kill", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"pgrep"},
			Summary: "Send a signal (KILL by default) to a process, once.",
			Params:  append(victimParams(), ParamSpec{Name: "signal", Type: TypeSignal, Default: "KILL", Help: "signal to send; TERM tests a graceful shutdown instead"}),
			rules:   []rule{exactlyOne("name", "pidfile")},
		},
		{
			Name: "process-pause", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"pgrep"},
			Summary: "Freeze a process with STOP; rollback sends CONT.",
			Params:  victimParams(),
			rules:   []rule{exactlyOne("name", "pidfile")},
		},
		{
			Name: "service-stop", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"systemctl"},
			Summary: "Stop a systemd unit; rollback starts it again.",
			Params: []ParamSpec{
				{Name: "unit", Type: TypeUnit, Required: true, Help: "unit to stop, such as nginx or nginx.service"},
			},
		},
		{
			Name: "network-latency", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"tc"},
			Summary: "Delay outgoing packets on an interface with tc netem.",
			Params: []ParamSpec{
				interfaceParam("interface to slow, such as eth0"),
				{Name: "delay", Type: TypeDuration, Required: true, Min: "1ms", Max: "30s", Help: "delay added to each packet"},
				{Name: "jitter", Type: TypeDuration, Default: "0s", Min: "0s", Max: "30s", Help: "random variation around the delay; at most the delay"},
				destinationParam(),
				portParam("only traffic to this destination port"),
				spareControlParam(),
			},
			rules: []rule{notAbove("jitter", "delay")},
		},
		{
			Name: "network-loss", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"tc"},
			Summary: "Drop a share of outgoing packets on an interface with tc netem.",
			Params: []ParamSpec{
				interfaceParam("interface to drop packets on, such as eth0"),
				{Name: "percent", Type: TypePercent, Required: true, Min: "0.01", Help: "share of packets to drop"},
				destinationParam(),
				portParam("only traffic to this destination port"),
				spareControlParam(),
			},
		},
		{
			Name: "blackhole", Family: FamilySSH, MaxDuration: defaultMax, Tools: []string{"iptables"},
			Summary: "Drop all traffic to or from a network with iptables.",
			Params: []ParamSpec{
				{Name: "cidr", Type: TypeCIDR, Required: true, Help: "network or address to cut off, such as 10.0.0.0/24"},
				portParam("only this port (of the remote side for egress, the local side for ingress)"),
				protocolParam("protocol to drop; a port needs tcp or udp"),
				{Name: "direction", Type: TypeEnum, Enum: []string{"egress", "ingress", "both"}, Default: "egress", Help: "traffic to drop: egress (to cidr), ingress (from cidr) or both"},
				spareControlParam(),
			},
			rules: []rule{portNeedsProtocol("port", "protocol")},
		},
		{
			Name: "dns-blackhole", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Make name lookups of a domain fail on the host.",
			Params: []ParamSpec{
				{Name: "domain", Type: TypeDNSName, Required: true, Help: "name whose lookups fail, such as api.example.com"},
			},
		},
		{
			Name: "clock-skew", Family: FamilySSH, MaxDuration: time.Hour, Tools: []string{"date"},
			Summary: "Move the system clock; rollback steps it back and resumes time sync.",
			Params: []ParamSpec{
				{Name: "offset", Type: TypeOffset, Required: true, Min: "-24h", Max: "24h", Help: "how far to move the clock, such as -5m (back) or 90s (ahead)"},
			},
		},
		{
			Name: "reboot", Family: FamilySSH, MaxDuration: time.Hour, Irreversible: true, Tools: []string{"systemctl"},
			Summary: "Reboot the host; the duration is the window to watch it come back.",
		},
		{
			Name: "shutdown", Family: FamilySSH, MaxDuration: defaultMax, Irreversible: true, Tools: []string{"systemctl"},
			Summary: "Power the host off; bringing it back is up to you.",
		},
		{
			Name: "custom", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Run the runbook's own inject and rollback commands; `{{name:type}}` in them is a typed param, checked and shell-quoted.",
			Params: []ParamSpec{
				{Name: "inject", Type: TypeTemplate, Required: true, Help: "shell command that injects the fault, run with sudo if the target asks for it; `{{name:type}}` (such as `{{unit:unit}}`) is replaced by the param `name`, checked as `type` and quoted as one word"},
				{Name: "rollback", Type: TypeTemplate, Required: true, Help: "shell command that undoes inject, with the same placeholders; it must be safe to run twice"},
			},
		},
	}
}

// labKinds are the faults the lab's SSH hosts accept; the host command is
// the kind name without "lab-".
func labKinds() []*Kind {
	share := func(def string) ParamSpec {
		return ParamSpec{Name: "share", Type: TypeShare, Default: def, Min: "1%", Help: "share of requests affected, such as 10% or 0.1"}
	}
	return []*Kind{
		{
			Name: "lab-latency", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Lab: the service answers slower.",
			Params: []ParamSpec{
				{Name: "delay", Type: TypeDuration, Required: true, Max: "30s", Help: "delay added to affected requests"},
				{Name: "jitter", Type: TypeDuration, Default: "0s", Min: "0s", Max: "30s", Help: "random variation around the delay; at most the delay"},
				share("100%"),
			},
			rules: []rule{notAbove("jitter", "delay")},
		},
		{
			Name: "lab-errors", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Lab: the service fails a share of requests.",
			Params: []ParamSpec{
				{Name: "share", Type: TypeShare, Required: true, Min: "1%", Help: "share of requests that fail, such as 10% or 0.1"},
				{Name: "status", Type: TypeStatus, Default: "500", Min: "400", Help: "HTTP status the failed requests get"},
			},
		},
		{
			Name: "lab-cpu", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Lab: the host's CPU is busy.",
			Params: []ParamSpec{
				{Name: "load", Type: TypePercent, Default: "90", Min: "1", Help: "CPU load to add"},
			},
		},
		{
			Name: "lab-process-kill", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Lab: the service process dies and its supervisor restarts it.",
			Params: []ParamSpec{
				{Name: "restart_after", Type: TypeDuration, Default: "30s", Max: "1h", Help: "how long the service stays down before it restarts"},
			},
		},
		{
			Name: "lab-blackhole", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Lab: the host drops all traffic to and from the service.",
		},
		{
			Name: "lab-dependency-latency", Family: FamilySSH, MaxDuration: defaultMax,
			Summary: "Lab: the service's downstream dependency answers slower.",
			Params: []ParamSpec{
				{Name: "delay", Type: TypeDuration, Required: true, Max: "30s", Help: "delay added to each call to the dependency"},
			},
		},
	}
}

// asgProcesses are the Auto Scaling processes that can be suspended.
const asgProcesses = "Launch Terminate HealthCheck ReplaceUnhealthy AZRebalance AlarmNotification ScheduledActions AddToLoadBalancer InstanceRefresh"

func awsKinds(linux []*Kind) []*Kind {
	// ssm-command runs a Linux kind through Run Command. reboot and
	// shutdown are left out: runbook validation decides the irreversible
	// opt-in from the kind alone, and ec2-reboot / ec2-stop do those jobs.
	nested := map[string]*Kind{}
	for _, k := range linux {
		if !k.Irreversible {
			nested[k.Name] = k
		}
	}
	attacks := slices.Sorted(maps.Keys(nested))
	ec2 := []string{"ec2:instance"}
	return []*Kind{
		{
			Name: "ec2-stop", Family: FamilyAWS, Resources: ec2, MaxDuration: defaultMax, FIS: "aws:ec2:stop-instances",
			Summary: "Stop EC2 instances; rollback starts them.",
			Params: []ParamSpec{
				{Name: "force", Type: TypeBool, Default: "false", Help: "stop without a clean OS shutdown, as a power loss would"},
				{Name: "allow_asg", Type: TypeBool, Default: "false", Help: "stop instances of an Auto Scaling group, which may replace them; suspend its HealthCheck and ReplaceUnhealthy processes first"},
			},
		},
		{
			// A reboot cannot be undone and an instance may not come back,
			// so it takes the same opt-in as the Linux reboot.
			Name: "ec2-reboot", Family: FamilyAWS, Resources: ec2, MaxDuration: time.Hour, Irreversible: true,
			Summary: "Reboot EC2 instances; the duration is the window to watch them come back.",
		},
		{
			Name: "ec2-terminate", Family: FamilyAWS, Resources: ec2, MaxDuration: time.Hour, Irreversible: true,
			Summary: "Terminate EC2 instances; whatever replaces them is the experiment.",
		},
		{
			Name: "ssm-command", Family: FamilyAWS, Resources: ec2, MaxDuration: defaultMax, FIS: "aws:ssm:send-command",
			Summary: "Run a Linux attack on instances through SSM Run Command, at fleet scale.",
			Params: []ParamSpec{
				{Name: "attack", Type: TypeEnum, Required: true, Enum: attacks, Help: "Linux kind to run; its params go alongside this one"},
				{Name: "max_concurrency", Type: TypeInt, Default: "10%", Min: "1", PercentOf: "the targeted instances", Help: "instances that run the command at once"},
				{Name: "max_errors", Type: TypeInt, Default: "0", Min: "0", PercentOf: "the targeted instances", Help: "failed instances after which SSM sends the command to no more"},
			},
			nested:  nested,
			refused: map[string]string{"reboot": "ec2-reboot", "shutdown": "ec2-stop or ec2-terminate"},
		},
		{
			Name: "fis-experiment", Family: FamilyAWS, Resources: []string{"fis:experiment-template"}, MaxDuration: 12 * time.Hour,
			Summary: "Start an AWS FIS experiment; rollback stops it.",
			Params: []ParamSpec{
				{Name: "template_id", Type: TypeFISTemplateID, Help: "template to start; leave it out to start the target's templates"},
			},
		},
		{
			Name: "lambda-throttle", Family: FamilyAWS, Resources: []string{"lambda:function"}, MaxDuration: defaultMax,
			Summary: "Cap a function's reserved concurrency; rollback restores it.",
			Params: []ParamSpec{
				{Name: "concurrency", Type: TypeInt, Default: "0", Min: "0", Max: "1000", Help: "reserved concurrency to set; 0 throttles every invocation"},
			},
		},
		{
			Name: "lambda-fault", Family: FamilyAWS, Resources: []string{"lambda:function"}, MaxDuration: defaultMax, FIS: "aws:lambda:invocation-error",
			Summary: "Set fault-injection environment variables that a layer in the function reads.",
			Params: []ParamSpec{
				{Name: "latency", Type: TypeDuration, Max: "15m", Help: "delay added to each affected invocation"},
				{Name: "error_rate", Type: TypePercent, Min: "0.01", Help: "share of invocations that fail"},
				{Name: "status_code", Type: TypeStatus, Default: "500", Min: "400", Help: "status the failed invocations return"},
			},
			rules: []rule{atLeastOne("error_rate", "latency")},
		},
		{
			// Nothing undoes a stop or a failover: like ec2-reboot they
			// take the opt-in, and their rollback says it did nothing.
			Name: "ecs-stop-task", Family: FamilyAWS, Resources: []string{"ecs:task"}, MaxDuration: defaultMax, Irreversible: true,
			Summary: "Stop ECS tasks; the service scheduler replaces them. Nothing is rolled back.",
		},
		{
			Name: "rds-failover", Family: FamilyAWS, Resources: []string{"rds:cluster", "rds:instance"}, MaxDuration: defaultMax, Irreversible: true,
			Summary: "Fail an Aurora cluster or Multi-AZ instance over to its standby. Nothing is rolled back: the new primary stays.",
		},
		{
			Name: "asg-suspend-processes", Family: FamilyAWS, Resources: []string{"autoscaling:group"}, MaxDuration: defaultMax,
			Summary: "Suspend Auto Scaling processes; rollback resumes them.",
			Params: []ParamSpec{
				{Name: "processes", Type: TypeList, Elem: TypeEnum, Enum: strings.Fields(asgProcesses), Required: true, Help: "processes to suspend, such as Launch,Terminate"},
			},
		},
		{
			Name: "sg-blackhole", Family: FamilyAWS, Resources: []string{"ec2:instance", "ec2:security-group"}, MaxDuration: defaultMax,
			Summary: "Remove matching allow rules from security groups; rollback puts them back. Connections already open are not cut.",
			Params: []ParamSpec{
				{Name: "group_id", Type: TypeSecurityGroupID, Help: "on instance targets, the one group to change; leave it out for every group attached"},
				{Name: "direction", Type: TypeEnum, Enum: []string{"ingress", "egress", "both"}, Default: "both", Help: "rules to remove: ingress, egress or both"},
				protocolParam("only rules for this protocol; a port needs tcp or udp"),
				portParam("only rules that cover this port"),
				{Name: "cidr", Type: TypeCIDR, Help: "only rules that cover this network; leave it out for all"},
				{Name: "shared", Type: TypeBool, Default: "false", Help: "on instance targets, allow changing groups that other instances carry too: they are cut as well"},
			},
			rules: []rule{portNeedsProtocol("port", "protocol")},
		},
		{
			Name: "dynamodb-capacity", Family: FamilyAWS, Resources: []string{"dynamodb:table"}, MaxDuration: defaultMax,
			Summary: "Reduce a table's provisioned capacity; rollback restores it.",
			Params: []ParamSpec{
				{Name: "keep", Type: TypePercent, Default: "10", Min: "1", Max: "99", Help: "share of the current read and write capacity to leave"},
				{Name: "read", Type: TypeInt, Min: "1", Help: "read capacity units to set instead of keep's share"},
				{Name: "write", Type: TypeInt, Min: "1", Help: "write capacity units to set instead of keep's share"},
			},
		},
	}
}
