export {
  dumpGlobals,
  type GlobalsDumpOptions,
  type GlobalsDumpResult,
  globalsTargetName,
} from './dump-globals.js';
export { type GlobalsStatement, type GlobalsStatementKind, parseGlobals } from './globals-sql.js';
export {
  type GlobalsAction,
  type GlobalsStep,
  type RestoreGlobalsOptions,
  type RestoreGlobalsResult,
  restoreGlobals,
} from './restore-globals.js';
