// Hints several commands give, in one wording.

/** How the CLI tells the user to find a task. */
export const LIST_TASKS = "list the tasks with `keel tasks list`";
