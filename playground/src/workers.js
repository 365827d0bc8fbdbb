// Monaco runs its language services in web workers. The build bundles each
// worker as a file of its own, served from the page's origin, and defines
// FEDGATE_WORKERS as their URLs.
/* global FEDGATE_WORKERS */
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    switch (label) {
      case 'json':
        return new Worker(FEDGATE_WORKERS['json.worker']);
      case 'graphql':
        return new Worker(FEDGATE_WORKERS['graphql.worker']);
      default:
        return new Worker(FEDGATE_WORKERS['editor.worker']);
    }
  },
};
