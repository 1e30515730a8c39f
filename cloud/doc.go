// Package cloud defines what a host provider is (Provider, Factory) and the
// values passed across that boundary. Implementations live in
// cloud/docker, cloud/aws and cloud/static. It must not import engine, lang or steps.
package cloud
