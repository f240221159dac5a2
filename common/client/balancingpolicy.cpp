#include "balancingpolicy.h"

#include <limits>

namespace edgelens {

int BalancingPolicy::pick(const QList<Candidate> &candidates)
{
    double fastest = std::numeric_limits<double>::max();
    for (const Candidate &c : candidates) {
        if (c.costMs > 0 && c.costMs < fastest)
            fastest = c.costMs;
    }
    if (fastest == std::numeric_limits<double>::max())
        fastest = 1.0;
    int best = -1;
    double bestScore = 0;
    for (int i = 0; i < candidates.size(); ++i) {
        const Candidate &c = candidates.at(i);
        const double score = (c.inFlight + 1) * (c.costMs > 0 ? c.costMs : fastest);
        if (best < 0 || score < bestScore || (score == bestScore && c.inFlight < candidates.at(best).inFlight)) {
            best = i;
            bestScore = score;
        }
    }
    return best;
}

} // namespace edgelens
