/**
 * Kubernetes name rules (apimachinery's validation package): object names are DNS-1123 subdomains,
 * namespaces DNS-1123 labels, Secret keys `[-._a-zA-Z0-9]+` of at most 253 characters and not `.`/`..`.
 * Checking them before sealing turns an apply-time rejection into an immediate, precise error.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** Returns why `name` is not a valid object name, or undefined when it is. */
export function invalidObjectName(name: string): string | undefined {
  if (name.length > 253) return 'must be at most 253 characters';
  if (!DNS1123_SUBDOMAIN.test(name)) return 'must be lowercase letters, digits, "-" and ".", starting and ending with a letter or digit (DNS-1123 subdomain)';
  return undefined;
}

/** Returns why `namespace` is not a valid namespace name, or undefined when it is. */
export function invalidNamespace(namespace: string): string | undefined {
  if (namespace.length > 63) return 'must be at most 63 characters';
  if (!DNS1123_LABEL.test(namespace)) return 'must be lowercase letters, digits and "-", starting and ending with a letter or digit (DNS-1123 label)';
  return undefined;
}

/** Returns why `key` is not a valid Secret key, or undefined when it is. */
export function invalidSecretKey(key: string): string | undefined {
  if (key.length === 0) return 'must not be empty';
  if (key.length > 253) return 'must be at most 253 characters';
  if (!SECRET_KEY.test(key)) return 'may contain only letters, digits, "-", "_" and "."';
  if (key === '.' || key === '..') return 'must not be "." or ".."';
  return undefined;
}
