/**
 * Credential type names for code that looks credentials up. The credential classes and the node
 * descriptions keep them as literals: n8n's lint cross-checks those literals (a typo fails it)
 * and skips the check when it meets a constant.
 */
export const TRUEDY_API_CREDENTIAL = 'truedyApi';
export const TRUEDY_WEBHOOK_CREDENTIAL = 'truedyWebhookApi';
