//! End-to-end tests against a real control plane (etcd, kube-apiserver, kube-controller-manager,
//! kube-scheduler, kwok), built by `scripts/testenv install`.
//!
//! One test binary, so the control plane starts once per run: see [`support`].

mod apply;
mod applyset;
mod bad_input;
mod bundles;
mod cluster;
mod destroy_pods;
mod details;
mod embed;
mod fault_proxy;
mod faults;
mod fleet;
mod kills;
mod kubectl;
mod lifecycle;
mod noop;
mod proof;
mod prune_matrix;
mod published_bugs;
mod restart;
mod second_plane;
mod secrets;
mod security;
mod status;
mod support;
mod table;
mod wait_for_jobs;
