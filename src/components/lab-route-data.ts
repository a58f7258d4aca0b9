/**
 * Starlight route middleware: lab pages trade the table of contents for the
 * terminal, which takes the right-hand column.
 */
import { defineRouteMiddleware } from "@astrojs/starlight/route-data";
import { isLabPage } from "./lab-page.ts";

export const onRequest = defineRouteMiddleware((context) => {
  const route = context.locals.starlightRoute;
  if (isLabPage(route.entry.data)) route.toc = undefined;
});
