/**
 * Just enough ELF64 reading to copy a dynamically linked program into an
 * image that has no libc of its own: its interpreter (PT_INTERP) and the
 * shared libraries it names (DT_NEEDED).
 */

export interface ElfDependencies {
  /** Program interpreter, e.g. "/lib64/ld-linux-x86-64.so.2"; absent for static binaries. */
  interpreter?: string;
  /** DT_NEEDED sonames, e.g. ["libc.so.6"]. */
  needed: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

/** Read interpreter and needed libraries of a little-endian ELF64 file. */
export function elfDependencies(buf: Buffer): ElfDependencies {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error("not an ELF file");
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error("only little-endian ELF64 is supported");
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  const loads: { vaddr: bigint; offset: bigint; filesz: bigint }[] = [];
  let interpreter: string | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    const type = buf.readUInt32LE(p);
    const offset = buf.readBigUInt64LE(p + 8);
    const vaddr = buf.readBigUInt64LE(p + 16);
    const filesz = buf.readBigUInt64LE(p + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_INTERP) interpreter = cString(buf, Number(offset));
    if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(filesz) };
  }
  if (!dynamic) return { interpreter, needed: [] };
  const entries: [bigint, bigint][] = [];
  for (let p = dynamic.offset; p + 16 <= dynamic.offset + dynamic.size; p += 16) {
    const tag = buf.readBigInt64LE(p);
    if (tag === DT_NULL) break;
    entries.push([tag, buf.readBigUInt64LE(p + 8)]);
  }
  const strtab = entries.find(([t]) => t === DT_STRTAB)?.[1];
  if (strtab === undefined) return { interpreter, needed: [] };
  // DT_STRTAB is a virtual address: map it to a file offset through the PT_LOAD segments.
  const seg = loads.find((l) => strtab >= l.vaddr && strtab < l.vaddr + l.filesz);
  if (!seg) throw new Error("ELF string table is outside every loaded segment");
  const strOff = Number(strtab - seg.vaddr + seg.offset);
  const needed = entries.filter(([t]) => t === DT_NEEDED).map(([, v]) => cString(buf, strOff + Number(v)));
  return { interpreter, needed };
}

function cString(buf: Buffer, offset: number): string {
  const end = buf.indexOf(0, offset);
  return buf.toString("latin1", offset, end < 0 ? buf.length : end);
}
