#!/usr/bin/env node
// Installed entry point (npm bin): runs the compiled CLI.
import '../dist/cli/main.js'
