package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"agora/config"
)

func configCmd() *command {
	return &command{
		name:    "config",
		args:    "",
		summary: "Print the effective configuration (AGORA_* variables) with secrets masked.",
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			cfg, err := config.Load(nil)
			if err != nil {
				return err
			}
			w := newTable(os.Stdout, "VARIABLE", "VALUE", "MEANING")
			for _, s := range cfg.Describe() {
				v := s.Value
				if v == "" {
					v = "(empty)"
				}
				w.row(s.Name, v, s.Doc)
			}
			w.flush()
			fmt.Println()
			return nil
		},
	}
}
