/** The JSON helpers this package's files share: one implementation, in @waygate/provider-kit. */
export { isObj, str, num } from '@waygate/provider-kit';
export type { Json } from '@waygate/provider-kit';
