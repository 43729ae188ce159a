// Command gameday is a terminal console for chaos-engineering game days.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int { return 0 }
