// Command agora is Agora's one binary: web server, worker, migrations, city
// and operator administration, local development and benchmarks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one (sub)command of the agora binary.
type command struct {
	name    string
	args    string // synopsis of positional arguments and flags
	summary string
	flags   func(fs *flag.FlagSet) // declares the command's flags
	run     func(ctx context.Context, fs *flag.FlagSet) error
	subs    []*command
}

// usageError is a mistake in how a command was called; it exits with 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func root() *command {
	return &command{
		name:    "agora",
		summary: "Agora, the open-source citizen participation platform",
		subs: []*command{
			serveCmd(), workerCmd(), devCmd(), migrateCmd(), tenantCmd(), operatorCmd(), userCmd(), configCmd(), benchCmd(), jobsCmd(),
		},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, root(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// execute finds the command named by args, parses its flags and runs it. It
// returns the process exit code: 0 ok, 1 failure, 2 usage error.
func execute(ctx context.Context, c *command, args []string, stdout, stderr io.Writer) int {
	path := c.name
	for len(c.subs) > 0 {
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
			printGroupHelp(stdout, path, c)
			if len(args) == 0 {
				return 2
			}
			return 0
		}
		next := find(c.subs, args[0])
		if next == nil {
			fmt.Fprintf(stderr, "%s: unknown command %q\n\n", path, args[0])
			printGroupHelp(stderr, path, c)
			return 2
		}
		c, args, path = next, args[1:], path+" "+next.name
		if c.run != nil && len(c.subs) > 0 && (len(args) == 0 || strings.HasPrefix(args[0], "-")) {
			break // a group that also runs on its own (agora migrate)
		}
	}
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: %s %s\n\n%s\n", path, c.args, c.summary)
		if len(c.subs) > 0 {
			fmt.Fprintln(out, "\nSubcommands:")
			for _, s := range c.subs {
				fmt.Fprintf(out, "  %-12s %s\n", s.name, s.summary)
			}
		}
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	if c.flags != nil {
		c.flags(fs)
	}
	fs.SetOutput(io.Discard) // usage is printed below, once, to the right stream
	if err := fs.Parse(interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		fs.SetOutput(stderr)
		fmt.Fprintf(stderr, "%s: %v\n\n", path, err)
		fs.Usage()
		return 2
	}
	err := c.run(ctx, fs)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %s\n(run '%s --help' for usage)\n", path, ue.msg, path)
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %v\n", path, err)
		return 1
	}
}

// interleave lets flags follow positional arguments (agora tenant show gent
// --json) by moving the flags first.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(flags, pos...)
}

func find(cs []*command, name string) *command {
	for _, c := range cs {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printGroupHelp(w io.Writer, path string, c *command) {
	fmt.Fprintf(w, "%s\n\nUsage: %s <command> [flags]\n\nCommands:\n", c.summary, path)
	for _, s := range c.subs {
		fmt.Fprintf(w, "  %-12s %s\n", s.name, s.summary)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", path)
}
