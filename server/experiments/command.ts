/**
 * External-command runs (seed 001's "trainer as a command"): a studio-administrator feature, off
 * unless STUDIO_ALLOW_COMMANDS=true. The command never goes through a shell: it is split into argv
 * here, runs in its run folder with a scrubbed environment (no database URL, no secret, no
 * credentials) and, where the worker runs as root, as an unprivileged user.
 */
import { readFileSync } from "node:fs";
import type { Ctx } from "@/server/context";
import { commandEnvironment, env } from "@/server/env";
import { Forbidden, Invalid, PermanentError } from "@/server/errors";

/** The worker's host or the experiment's creator does not allow the command: trying again cannot help. */
export class CommandRefused extends PermanentError {}

/** Characters a shell would treat as syntax; without a shell they would silently become arguments. */
const SHELL_SYNTAX = new Set([";", "|", "&", "<", ">", "(", ")", "$", "`"]);

/**
 * Splits a command line into argv the way a POSIX shell splits words — whitespace, single quotes,
 * double quotes, backslashes — and nothing more: no variables, globs, pipes or command lists.
 */
export function splitCommandLine(line: string): string[] {
  const argv: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Invalid("The command has an unclosed single quote", { "hyperparameters.command": ["unclosed quote"] });
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      for (i++; ; i++) {
        if (i >= line.length) throw new Invalid("The command has an unclosed double quote", { "hyperparameters.command": ["unclosed quote"] });
        if (line[i] === '"') break;
        if (line[i] === "\\" && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) i++;
        word += line[i];
      }
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(word);
      word = "";
      inWord = false;
    } else if (SHELL_SYNTAX.has(c)) {
      throw new Invalid(`Commands run without a shell, so "${c}" has no meaning here; quote it, pass the command as an argv list, or put the steps in a script`, {
        "hyperparameters.command": [`shell syntax "${c}"`],
      });
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) argv.push(word);
  if (argv.length === 0) throw new Invalid("The command is empty", { "hyperparameters.command": ["empty"] });
  return argv;
}

export function commandArgv(command: unknown): string[] {
  return Array.isArray(command) ? command.map(String) : splitCommandLine(String(command));
}

/** Who may set a command on an experiment: studio administrators, where the studio allows commands. */
export function assertMayRunCommand(ctx: Ctx, hyperparameters: Record<string, unknown>): void {
  if (hyperparameters.command === undefined) return;
  if (!env().STUDIO_ALLOW_COMMANDS) {
    throw new Forbidden("External-command runs are turned off on this studio (an administrator can set STUDIO_ALLOW_COMMANDS=true)", {
      "hyperparameters.command": ["commands are turned off"],
    });
  }
  if (!ctx.caller.isAdmin) {
    throw new Forbidden("Only studio administrators may run external commands", { "hyperparameters.command": ["administrators only"] });
  }
  commandArgv(hyperparameters.command);
}

export interface CommandIdentity {
  uid?: number;
  gid?: number;
  /** For the log line: who the command runs as. */
  user: string;
}

/** Root never runs a user's command: it runs as STUDIO_COMMAND_USER (default `nobody`). */
export function commandIdentity(): CommandIdentity {
  if (process.getuid?.() !== 0) return { user: "the worker's own user" };
  const name = env().STUDIO_COMMAND_USER;
  const entry = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .map((line) => line.split(":"))
    .find((fields) => fields[0] === name);
  if (!entry) throw new CommandRefused(`The worker runs as root and the command user "${name}" does not exist on this host; set STUDIO_COMMAND_USER`);
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  if (uid === 0) throw new CommandRefused(`STUDIO_COMMAND_USER "${name}" is root; commands never run as root`);
  return { uid, gid, user: name };
}

/** The command's whole environment: a few harmless variables from the worker's, and where it runs. */
export function scrubbedEnvironment(runDir: string): NodeJS.ProcessEnv {
  // Cast: Next's type augmentation makes NODE_ENV required, and the command must not get ours.
  return { ...commandEnvironment(), HOME: runDir, TMPDIR: runDir, STUDIO_RUN_DIR: runDir } as unknown as NodeJS.ProcessEnv;
}
