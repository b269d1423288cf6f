//! Fail closed, write safely, survive hostile input (issue 11): each test here failed on the
//! code before the fix it guards.
