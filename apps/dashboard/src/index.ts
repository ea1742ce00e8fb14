export { createDashboardApp, type DashboardDeps } from './app.js';
export { type DashboardAccess, resolveAccess } from './auth/access.js';
export { type Account, Accounts, type Role } from './auth/accounts.js';
export { FailureLimiter, type FailureLimiterOptions } from './auth/failure-limiter.js';
export { type TargetStatus as DashboardTargetStatus, targetStatuses } from './catalog-status.js';
export {
  type DashboardConfig,
  type DashboardSettings,
  dashboardSection,
  loadDashboardConfig,
} from './config/dashboard-section.js';
export { collectMetrics, failureCode, type MetricsSources } from './metrics.js';
export { type RunningDashboard, type StartDashboardOptions, startDashboard } from './server.js';
