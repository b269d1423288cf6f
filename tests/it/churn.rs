//! Snapshots, scans and listings under churn (thousands of connections a second, short-lived
//! processes): no error exit, no panic, and every owner reported really held its socket.
