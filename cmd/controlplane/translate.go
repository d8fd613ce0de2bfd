package main

import "github.com/spf13/cobra"

func newTranslateCommand() *cobra.Command { return &cobra.Command{Use: "translate"} }
