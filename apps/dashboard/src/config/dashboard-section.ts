import {
  type BackupConfig,
  type ConfigSection,
  type LoadConfigOptions,
  loadConfig,
  optional,
  quote,
  type SectionReader,
} from '@pgbackup/backup-core';
import { z } from 'zod';

/** Defaults: port 3000, host unset (the dashboard decides), base path `/`, user `admin`. */
export const dashboardSettingsSchema = z.object({
  port: z.number().int().min(0).max(65_535),
  host: z.string().optional(),
  basePath: z.string().startsWith('/'),
  /** Unset: X-Forwarded-For is ignored and the client is the connection's peer. */
  trustProxy: z.union([z.number().int().min(1), z.array(z.string()).min(1)]).optional(),
  user: z.string().min(1),
  password: z.string().optional(),
  viewerUser: z.string().optional(),
  viewerPassword: z.string().optional(),
});
export type DashboardSettings = z.infer<typeof dashboardSettingsSchema>;

/** The configuration the dashboard runs with: the shared one and its own section. */
export type DashboardConfig = BackupConfig & { dashboard: DashboardSettings };

/**
 * The dashboard's own settings (DASHBOARD_*): where it listens and who may log in. Their rules
 * live here, in the one app that uses them; the worker and backupctl never see them.
 */
export const dashboardSection: ConfigSection<DashboardSettings> = {
  read(settings) {
    const user = settings.valueOrDefault('dashboardUser');
    const password = settings.secret('dashboardPassword', 'dashboardPasswordFile');
    const viewerUser = settings.value('dashboardViewerUser');
    const viewerPassword = settings.secret('dashboardViewerPassword', 'dashboardViewerPasswordFile');
    checkViewerAccount(settings, user, viewerUser, viewerPassword);
    return dashboardSettingsSchema.parse({
      port: settings.valueOrDefault('dashboardPort'),
      ...optional('host', settings.value('dashboardHost')),
      basePath: settings.valueOrDefault('dashboardBasePath'),
      ...optional('trustProxy', settings.value('dashboardTrustProxy')),
      user,
      ...optional('password', password),
      ...optional('viewerUser', viewerUser),
      ...optional('viewerPassword', viewerPassword),
    });
  },
};

/** A half-configured viewer account is a typo, not a wish for an account nobody can log in to. */
function checkViewerAccount(
  settings: SectionReader,
  user: string,
  viewerUser: string | undefined,
  viewerPassword: string | undefined,
): void {
  const viewerKeys = [
    'dashboardViewerUser',
    'dashboardViewerPassword',
    'dashboardViewerPasswordFile',
  ] as const;
  if (viewerKeys.some((key) => settings.failed(key))) return;
  if (viewerUser !== undefined && viewerPassword === undefined) {
    settings.problem({
      where: settings.whereOf('dashboardViewerUser'),
      value: quote(viewerUser),
      problem:
        'is set without a viewer password; expected DASHBOARD_VIEWER_PASSWORD or DASHBOARD_VIEWER_PASSWORD_FILE too',
      source: 'config',
    });
  } else if (viewerUser === undefined && viewerPassword !== undefined) {
    settings.problem({
      where: settings.whereOf(
        settings.source('dashboardViewerPassword')
          ? 'dashboardViewerPassword'
          : 'dashboardViewerPasswordFile',
      ),
      problem: 'is set without a viewer user; expected DASHBOARD_VIEWER_USER too, for example viewer',
      source: 'config',
    });
  } else if (viewerUser !== undefined && viewerUser === user) {
    settings.problem({
      where: settings.whereOf('dashboardViewerUser'),
      value: quote(viewerUser),
      problem: `is the same as DASHBOARD_USER; expected a different name, for example viewer`,
      source: 'config',
    });
  }
}

/** loadConfig with the dashboard's section: what the dashboard, its tests and the deploy test read. */
export function loadDashboardConfig(options: LoadConfigOptions = {}): DashboardConfig {
  return loadConfig({ ...options, sections: { dashboard: dashboardSection } });
}
