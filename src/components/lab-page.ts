/** Whether a lesson shows the lab terminal: explicit `lab`, else "has exercises". */
export function isLabPage(data: { lab?: boolean; exercises?: unknown[] }): boolean {
  return data.lab ?? (data.exercises?.length ?? 0) > 0;
}
