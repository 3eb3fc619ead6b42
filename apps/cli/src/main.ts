#!/usr/bin/env node
import { runCli } from './cli';
import { processIo } from './output';

// The only place the CLI reads process.env; commands get these values.
const { GANTRY_URL, GANTRY_TOKEN, XDG_CONFIG_HOME, HOME } = process.env;

void runCli(process.argv, processIo, { GANTRY_URL, GANTRY_TOKEN, XDG_CONFIG_HOME, HOME }).then((code) => {
  process.exitCode = code;
});
