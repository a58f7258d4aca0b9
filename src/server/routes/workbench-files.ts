/**
 * The workbench editor's routes (paths in src/shared/contract.ts `API`):
 *   GET  /api/lab/files                      the files under the toolbox's working directory
 *   GET  /api/lab/file?path=                 one file's text
 *   POST /api/lab/file {path, content}       write it (the terminal sees it)
 *   GET  /api/lab/schema?apiVersion=&kind=   the kind's JSON Schema from the cluster's own OpenAPI v3
 *   POST /api/lab/apply {content}            server-side dry run, then apply, as the learner
 * Each acts on the caller's own lab only (the session's, as the other lab
 * routes); Host, access, Origin and the session are the front door's.
 */
import { z } from "zod";
import type { Lab, LabManager } from "../../lab/types.ts";
import { API, type WorkbenchApplyResult, type WorkbenchFile, type WorkbenchFileList } from "../../shared/contract.ts";
import { route, type Route } from "../http/route.ts";
import { HttpError, sendJson } from "../http-util.ts";
import { MAX_FILE_BYTES, type WorkbenchEditor } from "../../workbench/editor/index.ts";

export interface WorkbenchRoutesDeps extends WorkbenchEditor {
  labManager: LabManager;
}

/** A JSON body holding a whole file: its size bound plus room for JSON escapes. */
const FILE_BODY_LIMIT = 2 * MAX_FILE_BYTES + 4096;
const fileBody = z.object({ path: z.string().max(200), content: z.string() });
const applyBody = z.object({ content: z.string() });

export function workbenchRoutes(deps: WorkbenchRoutesDeps): Route<any>[] {
  const { labManager } = deps;

  /** The session's own lab, ready; touched (the editor is activity). */
  function readyLab(sid: string): Lab {
    const lab = labManager.getLab(sid);
    if (!lab) throw new HttpError(409, "there is no lab for this session", "Reload the lesson page to start one.");
    if (lab.state !== "ready")
      throw new HttpError(409, `the lab is not ready (${lab.state})`, "Wait until the terminal says it is ready.");
    labManager.touch(sid);
    return lab;
  }

  return [
    route({
      method: "GET",
      path: API.labFiles,
      auth: "session",
      csrf: false,
      async handler({ res, sessionId }) {
        const list: WorkbenchFileList = await deps.files(readyLab(sessionId!)).list();
        sendJson(res, 200, list);
      },
    }),
    route({
      method: "GET",
      path: API.labFile,
      auth: "session",
      csrf: false,
      async handler({ res, sessionId, url }) {
        const path = url.searchParams.get("path") ?? "";
        const file: WorkbenchFile = { path, content: await deps.files(readyLab(sessionId!)).read(path) };
        sendJson(res, 200, file);
      },
    }),
    route({
      method: "POST",
      path: API.labFile,
      auth: "session",
      csrf: false,
      body: { json: fileBody, limit: FILE_BODY_LIMIT, hint: 'Send {"path":"job.yaml","content":"..."}.' },
      async handler({ res, sessionId, body }) {
        const size = await deps.files(readyLab(sessionId!)).write(body.path, body.content);
        sendJson(res, 200, { path: body.path, size });
      },
    }),
    route({
      method: "GET",
      path: API.labSchema,
      auth: "session",
      csrf: false,
      async handler({ res, sessionId, url }) {
        readyLab(sessionId!);
        const apiVersion = url.searchParams.get("apiVersion") ?? "";
        const kind = url.searchParams.get("kind") ?? "";
        const schema = await deps.schemas.schema(apiVersion, kind);
        if (!schema)
          throw new HttpError(
            404,
            `the cluster serves no kind ${kind.slice(0, 63)} in ${apiVersion.slice(0, 100)}`,
            "Check apiVersion and kind (`kubectl api-resources` lists what the cluster serves).",
          );
        sendJson(res, 200, schema);
      },
    }),
    route({
      method: "POST",
      path: API.labApply,
      auth: "session",
      csrf: false,
      body: { json: applyBody, limit: FILE_BODY_LIMIT, hint: 'Send {"content":"apiVersion: v1\\n..."}.' },
      async handler({ res, sessionId, body }) {
        const lab = readyLab(sessionId!);
        if (Buffer.byteLength(body.content) > MAX_FILE_BYTES)
          throw new HttpError(413, `the file is larger than ${MAX_FILE_BYTES} bytes`, "Split it into smaller files.");
        sendJson(res, 200, await deps.apply(body.content, deps.learner(lab)));
      },
    }),
  ];
}
