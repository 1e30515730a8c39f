// Package cloud defines what a host provider is (Provider, Factory) and the
// values passed across that boundary. Implementations live in
// cloud/docker, cloud/aws and cloud/static. A Factory may also check its
// settings offline (SettingsChecker), for validate and plan. It must not
// import engine, lang or steps.
package cloud
