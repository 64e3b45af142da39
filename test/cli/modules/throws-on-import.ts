/** A module that throws while being imported, for CLI tests. */
throw new Error('this module cannot be loaded');
