/**
 * `./kubelab instructor add [--admin] <name>`: make (or re-password, or bring
 * back) an instructor who can sign in at /instructor/login and run classes
 * (namespace mode). An instructor sees and acts only on the classes they
 * created; `--admin` lets them act on every class. Each `add` states the role
 * anew: adding again without `--admin` makes an admin an ordinary instructor. The password is read from the terminal without echo (asked twice),
 * or from stdin when it is not a terminal (`… | ./kubelab instructor add ana`);
 * never from an argument, which other users see in `ps`. Only its scrypt hash
 * is kept, in the progress store.
 *
 * `instructor list` prints names, dates and roles (never hashes); `instructor remove
 * <name>` disables the account: it cannot sign in and its open sessions stop
 * working at their next request (the server re-reads the account on each).
 * Its classes stay, and keep naming it.
 */
import { KubelabError } from "../../errors.ts";
import { hashPassword, MIN_INSTRUCTOR_PASSWORD } from "../../class/passwords.ts";
import { openStore } from "../../store/index.ts";

const USAGE = `usage: ./kubelab instructor add [--admin] <name>   (password from the terminal, or stdin;
                                                   --admin: may act on every class, not only their own)
       ./kubelab instructor list
       ./kubelab instructor remove <name>`;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Read one line from a TTY without echoing it (raw mode; backspace, Ctrl-C and Ctrl-D understood). */
export function readHidden(
  prompt: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(prompt);
    let line = "";
    input.setRawMode(true);
    input.resume();
    input.setEncoding("utf8");
    const done = (err?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off("data", onData);
      output.write("\n");
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new KubelabError("cancelled", "Run the command again to set the password."));
        if (ch === "\u0004") return done();
        if (ch === "\u007f" || ch === "\b") line = [...line].slice(0, -1).join("");
        else if (ch >= " ") line += ch;
      }
    };
    input.on("data", onData);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (chunks.reduce((n, c) => n + c.length, 0) > 4096)
      throw new KubelabError("the password on stdin is longer than 4 KiB", "Pipe just the password, one line.");
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function list(): Promise<number> {
  const store = await openStore();
  try {
    const all = await store.listInstructors();
    if (!all.length) console.log("no instructors yet: add one with ./kubelab instructor add <name>");
    for (const i of all)
      console.log(
        `${i.name}\t${i.admin ? "admin" : "instructor"}\tadded ${i.createdAt}${i.removedAt ? `\tremoved ${i.removedAt}` : ""}`,
      );
  } finally {
    await store.close();
  }
  return 0;
}

async function remove(name: string): Promise<number> {
  const store = await openStore();
  let outcome: Awaited<ReturnType<typeof store.removeInstructor>>;
  try {
    outcome = await store.removeInstructor(name);
  } finally {
    await store.close();
  }
  if (outcome === "unknown")
    throw new KubelabError(
      `there is no instructor "${name.slice(0, 80)}"`,
      "See the names with ./kubelab instructor list.",
    );
  console.log(
    outcome === "already"
      ? `instructor ${name} was already removed`
      : `instructor ${name} removed: they cannot sign in, their open sessions end now; their classes stay (./kubelab instructor add ${name} brings them back)`,
  );
  return 0;
}

export default async function instructorCommand(args: string[]): Promise<number> {
  const admin = args[0] === "add" && args.includes("--admin");
  const [sub, name, ...rest] = admin ? args.filter((a) => a !== "--admin") : args;
  if (sub === "list" && !name) return list();
  if (sub === "remove" && name && !rest.length) return remove(name);
  if (sub !== "add" || !name || rest.length) {
    console.error(USAGE);
    return 2;
  }
  if (!NAME.test(name))
    throw new KubelabError(
      `invalid instructor name "${name.slice(0, 80)}"`,
      "Use letters, digits and . _ @ - (at most 64 characters), e.g. ana or ana@school.",
    );
  let password: string;
  if (process.stdin.isTTY) {
    password = await readHidden(`Password for instructor ${name} (at least ${MIN_INSTRUCTOR_PASSWORD} characters): `);
    const again = await readHidden("Again: ");
    if (again !== password)
      throw new KubelabError("the two passwords differ", "Run the command again and type the same password twice.");
  } else {
    password = await readStdin();
  }
  const hash = await hashPassword(password);
  const store = await openStore();
  try {
    await store.setInstructor(name, hash, { admin });
  } finally {
    await store.close();
  }
  console.log(
    `${admin ? "admin" : "instructor"} ${name} can sign in at /instructor/login and act on ${admin ? "every class" : "the classes they create"} (serve a class with ./kubelab start --mode namespace)`,
  );
  return 0;
}
