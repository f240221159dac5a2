#pragma once

// Which device gets the next request (gRPC's load-balancing policy). Least outstanding work
// relative to measured speed: each device's (in flight + 1) × its cost per image estimates when
// a new request would be done there, and the smallest wins. A device not measured yet counts as
// fast as the fastest measured one, so a new or returning device gets work at once.

#include <QList>

namespace edgelens {


class BalancingPolicy final
{
public:
    struct Candidate
    {
        int inFlight = 0;
        double costMs = 0; // 0: not measured yet
    };

    // Index into candidates, or -1 when empty. Ties go to fewer in flight, then the earlier one.
    static int pick(const QList<Candidate> &candidates);
};

} // namespace edgelens
