package main

import "os"

// secretEnvVars carry key material itself, not a path to it.
var secretEnvVars = []string{"HOTLINE_MASTER_KEY", "HOTLINE_MASTER_PASSPHRASE"}

// takeSecretEnv removes the secret variables from the process environment
// and returns a getenv that still answers them from what it read. Every
// command then sees them as before, but nothing later in the process (a
// child process, a crash report, a library that dumps os.Environ) does.
//
// It cannot wipe the copy the kernel keeps of the environment the process
// started with (/proc/PID/environ, readable by the same user and root):
// the key file, best through systemd's LoadCredential=, avoids that.
func takeSecretEnv() func(string) string {
	secrets := make(map[string]string, len(secretEnvVars))
	for _, name := range secretEnvVars {
		if v, ok := os.LookupEnv(name); ok {
			secrets[name] = v
			os.Unsetenv(name)
		}
	}
	return func(name string) string {
		if v, ok := secrets[name]; ok {
			return v
		}
		return os.Getenv(name)
	}
}
