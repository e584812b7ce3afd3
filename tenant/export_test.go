package tenant

// FailAt makes the named provisioning step (one of ProvisionSteps) fail, so
// tests can prove that a failed creation leaves nothing behind. An empty step
// turns the injection off.
func (p *Provisioner) FailAt(step string) { p.failAt = step }
