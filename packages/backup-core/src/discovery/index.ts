export { discoveredTargetName, maxServerNameLength } from './discovered-name.js';
export { discoveredTarget, globalsTarget } from './discovered-target.js';
export { globMatches, isLiteralPattern } from './glob.js';
export { discoverDatabases, listDatabases } from './list-databases.js';
export {
  type DatabaseRow,
  type DiscoveredDatabase,
  type Discovery,
  type DiscoveryRule,
  describeSkip,
  type SkipReason,
  selectDatabases,
} from './select.js';
