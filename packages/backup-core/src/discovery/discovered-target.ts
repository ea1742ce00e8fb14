import type { TargetConfig } from '../config/types.js';
import { displayUrl } from '../config/url.js';
import type { DiscoveredDatabase } from './select.js';

/**
 * The target a discovered database is backed up as: the server target's connection, schedule,
 * retention, verification and destinations, its own name, catalog and health. It discovers
 * nothing itself.
 */
export function discoveredTarget(server: TargetConfig, found: DiscoveredDatabase): TargetConfig {
  const { discover: _discover, ...rest } = server;
  const connection = { ...server.connection, database: found.database };
  return {
    ...rest,
    name: found.target,
    connection,
    displayUrl: displayUrl(connection),
    retention: { ...server.retention },
    destinations: [...server.destinations],
    server: server.name,
  };
}

/**
 * The target of a server's globals backup (`<server>.globals`, globals/dump-globals.ts): the
 * server's schedule, retention, verification and destinations, and its connection.
 */
export function globalsTarget(server: TargetConfig): TargetConfig {
  const { discover: _discover, ...rest } = server;
  return {
    ...rest,
    name: `${server.name}.globals`,
    retention: { ...server.retention },
    destinations: [...server.destinations],
    server: server.name,
  };
}
