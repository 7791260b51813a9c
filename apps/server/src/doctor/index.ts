export { runDoctor, CHECKS, DOCTOR_DEFAULTS } from "./run-doctor.js";
export type { CheckResult, CheckStatus, DoctorOptions, DoctorReport } from "./types.js";
