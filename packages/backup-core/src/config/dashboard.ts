import type { ConfigFile } from './file.js';
import { type AllLayers, type Layers, pick, pickedLayer } from './layers.js';
import { type ProblemList, quote } from './problems.js';
import { eitherOf } from './secret-pair.js';
import { type SettingKey, settings } from './settings.js';
import { required } from './targets.js';
import type { BackupConfig } from './types.js';

export function dashboardConfig(
  layers: AllLayers,
  file: ConfigFile | undefined,
  problems: ProblemList,
): BackupConfig['dashboard'] {
  const user = required(layers.dashboardUser);
  const password = eitherOf('dashboardPassword', 'dashboardPasswordFile', layers, file, problems);
  const viewerUser = pick(layers.dashboardViewerUser);
  const viewerPassword = eitherOf(
    'dashboardViewerPassword',
    'dashboardViewerPasswordFile',
    layers,
    file,
    problems,
  );
  const viewerKeys = [
    'dashboardViewerUser',
    'dashboardViewerPassword',
    'dashboardViewerPasswordFile',
  ] as const satisfies readonly SettingKey[];
  const viewerFailed = viewerKeys.some((key) => layers[key].failed);
  if (!viewerFailed) {
    // A half-configured viewer account is a typo, not a wish for an account nobody can log in to.
    if (viewerUser !== undefined && viewerPassword === undefined) {
      problems.add({
        where: whereOf('dashboardViewerUser', layers, file),
        value: quote(viewerUser),
        problem:
          'is set without a viewer password; expected DASHBOARD_VIEWER_PASSWORD or DASHBOARD_VIEWER_PASSWORD_FILE too',
        source: 'config',
      });
    } else if (viewerUser === undefined && viewerPassword !== undefined) {
      problems.add({
        where: whereOf(
          pickedLayer(layers.dashboardViewerPassword)
            ? 'dashboardViewerPassword'
            : 'dashboardViewerPasswordFile',
          layers,
          file,
        ),
        problem: 'is set without a viewer user; expected DASHBOARD_VIEWER_USER too, for example viewer',
        source: 'config',
      });
    } else if (viewerUser !== undefined && viewerUser === user) {
      problems.add({
        where: whereOf('dashboardViewerUser', layers, file),
        value: quote(viewerUser),
        problem: `is the same as DASHBOARD_USER; expected a different name, for example viewer`,
        source: 'config',
      });
    }
  }
  return {
    port: required(layers.dashboardPort),
    ...optional('host', pick(layers.dashboardHost)),
    basePath: required(layers.dashboardBasePath),
    ...optional('trustProxy', pick(layers.dashboardTrustProxy)),
    user,
    ...optional('password', password),
    ...optional('viewerUser', viewerUser),
    ...optional('viewerPassword', viewerPassword),
  };
}

/** Leaves an unset key out, rather than present and undefined, so the object logs and compares as documented. */
export function optional<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
}

/** The variable's name, or the file key when the value came from the config file. */
function whereOf(key: SettingKey, layers: AllLayers, file: ConfigFile | undefined): string {
  const chosen: Layers<unknown> = layers[key];
  return pickedLayer(chosen) === 'file' && file ? `${file.label}: ${key}` : settings[key].env;
}
