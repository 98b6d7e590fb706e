import CKairos
import Foundation
import Testing

@testable import Kairos

@Suite("PPO")
struct PPOTests {
    @Test("CartPole: a short seeded run learns (mean return of the last 100 episodes > floor)")
    func cartPoleShortRun() {
        let config = PPOConfig()
        let trainer = PPOTrainer(environment: CartPoleVectorEnvironment(count: config.numEnvironments), config: config, seed: 1)
        var log: [String] = []
        let last = trainer.train(totalSteps: 50_000) { p in
            log.append(String(format: "%6d ret %.1f pl %.4f vl %.3f ent %.3f kl %.4f", p.steps, p.meanEpisodeReturn,
                              p.policyLoss, p.valueLoss, p.entropy, p.approxKL))
            return true
        }
        for l in log where log.count < 40 || l.hasSuffix("") { print(l) }
        print("final mean return", last.meanEpisodeReturn)
        #expect(last.meanEpisodeReturn > 150)
    }
}
