/** Replaced by the bundler with package.json's version; undefined when running from source. */
declare const KSEAL_VERSION: string | undefined;
