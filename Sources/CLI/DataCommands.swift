import ArgumentParser
import Foundation
import SRLMEngines
import SRLMExport
import SRLMStore

