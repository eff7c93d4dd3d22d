import SRLMStore
