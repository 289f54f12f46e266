"""What the demo knee's therapist wrote at each of the 24 visits: each note says what happened that day.

Every visit has its own report, the function it was limited in, the skilled cue
that mattered and the patient's response, so no two notes read as copies of each
other (docs/rules.md#cloned-notes) and each necessity statement ties the right TKA to a
functional limitation (docs/rules.md#necessity).
"""

from __future__ import annotations

from typing import NamedTuple


class Session(NamedTuple):
    """One visit's own content."""

    report: str
    limitation: str
    cue: str
    response: str


SESSIONS: tuple[Session, ...] = (
    Session(
        "Evaluation two weeks after right TKA: walks household distances with a front-wheeled walker and "
        "wakes at night from knee pain.",
        "flexion to 76 degrees and a 15-degree extensor lag make stair climbing unsafe and keep walking to "
        "household distances",
        "taught quadriceps sets with tactile cues at the VMO and a towel roll under the knee",
        "Quadriceps set with visible superior patellar glide after cueing",
    ),
    Session(
        "Reports two nights of better sleep; uses the walker for short errands outside.",
        "flexion still short of the 90 degrees needed to sit in a standard car seat",
        "corrected hip hitching during straight leg raise with a hand on the pelvis",
        "Straight leg raise lag down from 15 to 10 degrees after the second set",
    ),
    Session(
        "Knee swelled after a 20-minute walk to the mailbox yesterday; iced it twice.",
        "effusion and quadriceps inhibition keep her on the walker for outdoor walking",
        "reduced terminal knee extension repetitions when the stroke test rose after the first set",
        "Stroke test trace effusion at the end, unchanged from arrival",
    ),
    Session(
        "Walked into the clinic with a single-point cane for the first time.",
        "reciprocal stair climbing is not yet possible; she leads with the left leg on every step",
        "progressed SLR to 2 lb and TKE to a red band after 3x10 without extensor lag",
        "No rise in pain with the new loads",
    ),
    Session(
        "Climbed the three porch steps step-to with the rail; stiff for an hour each morning.",
        "morning stiffness and flexion short of 95 degrees slow sit-to-stand from the sofa",
        "verbal cues for equal weight bearing through both feet during sit-to-stand practice",
        "Rose from an 18-inch seat without using her hands by the fifth repetition",
    ),
    Session(
        "Sat through a one-hour church service on Sunday with the knee straight on an aisle seat.",
        "cane-dependent walking with a shortened right stance limits her in the community",
        "cued heel strike and terminal knee extension during gait training with the cane",
        "Right and left stance times nearly equal by the last lap; gait speed 0.8 m/s",
    ),
    Session(
        "Knee ached after a morning of housework.",
        "quadriceps endurance gives out after 10 minutes on her feet in the kitchen",
        "adjusted step-up height back to 4 inches when the knee drifted into valgus",
        "Valgus controlled at the 4-inch height; ache eased during the cool-down",
    ),
    Session(
        "No night pain this week; walks indoors without the cane.",
        "single-leg balance of 8 seconds on foam limits safe walking on uneven ground",
        "progressed TKE to a green band and SLR to 3 lb; started foam stance with fingertip support",
        "Held foam stance 12 s with fingertip support, no pain increase",
    ),
    Session(
        "Walked to the end of her street and back with the cane without stopping.",
        "flexion of 96 degrees still prevents a step-over-step pattern on stairs",
        "hand-over-hand guidance at the knee for eccentric lowering on the step",
        "Lowered from the 4-inch step with control in 8 of 10 repetitions",
    ),
    Session(
        "Progress visit: LEFS 35; climbs stairs step-to with one rail.",
        "stairs remain step-to and community walking still needs the cane",
        "reassessed goals with LEFS and goniometry; progressed step-ups to a 6-inch step",
        "Flexion 101 degrees with an extension lag of 3 degrees",
    ),
    Session(
        "Sore at the front of the knee after a two-hour car ride to see her grandchildren.",
        "sitting in a car for over an hour stiffens the knee and limits travel",
        "modified step-ups to a slower tempo while watching anterior knee pain on each set",
        "Anterior knee pain stayed at its starting level through the session",
    ),
    Session(
        "Walked a full lap of the grocery store without the cane.",
        "the knee buckles on uneven pavement and foam balance lasts 14 seconds",
        "progressed SLR to 4 lb, TKE to a blue band and foam stance to 30 seconds",
        "No buckling during 3 x 30 s foam stance; 4 lb SLR with full extension",
    ),
    Session(
        "Tried the 12 stairs at her daughter's house with two rails.",
        "she cannot yet climb the 14 stairs to her bedroom reciprocally without rails",
        "tactile cues at the lateral knee to keep it over the second toe during step-ups",
        "Knee stayed over the second toe in every repetition",
    ),
    Session(
        "Mild swelling after kneeling in the garden for the first time.",
        "kneeling and rising from the floor are limited by anterior knee pain",
        "progressed step-ups to the 8-inch step after controlled lowering from 6 inches",
        "Trace effusion; 8-inch step-up with a light touch on the rail",
    ),
    Session(
        "Did her home programme twice a day this week with no flare-ups.",
        "quadriceps fatigue after 15 minutes of standing work limits cooking a full meal",
        "monitored RPE and rest intervals through the endurance sets",
        "RPE 13 after the last set, effusion unchanged",
    ),
    Session(
        "Started riding a stationary bike at the community centre.",
        "flexion of 112 degrees allows the bike but stairs still need a rail on the way down",
        "set the bike seat for 110 degrees of knee flexion; progressed foam stance to eyes closed",
        "Full bike revolutions without rocking; eyes-closed foam stance 15 s",
    ),
    Session(
        "Walked 20 minutes on the park path without the cane.",
        "descending stairs without a rail provokes knee pain from the fifth step",
        "verbal cues to control knee flexion speed during eccentric step-downs",
        "Pain on descent eased over the session",
    ),
    Session(
        "No pain at rest and sleeping through the night.",
        "endurance for the 1,000-foot walk to the bus stop is not there yet",
        "progressed step-ups to 3x15 holding 5 lb after 3x10 without fatigue",
        "3x15 with 5 lb without losing alignment",
    ),
    Session(
        "Carried a laundry basket down five steps holding the rail.",
        "carrying loads on stairs still needs a rail, which limits household chores",
        "guarded during loaded step practice and cued an upright trunk",
        "Loaded step practice without a loss of balance",
    ),
    Session(
        "Progress visit: LEFS 47; walks 1,000 feet without a device.",
        "stair endurance is the last limitation: 12 reciprocal stairs only with two rails",
        "reassessed goals; discontinued SLR, progressed TKE repetitions, bike time and foam stance with a "
        "ball toss",
        "Foam stance with ball toss 30 s; bike 15 minutes at level 3",
    ),
    Session(
        "Climbed the 14 stairs at home twice with one rail.",
        "descending the stairs reciprocally without a rail still hurts",
        "adjusted step-down depth to keep pain during descent low",
        "Descent pain eased with one-rail support",
    ),
    Session(
        "Went back to her exercise class at the senior centre this week.",
        "lateral stability on stairs while carrying groceries up is the remaining gap",
        "monitored knee valgus during the new lateral step-ups and cued hip abductor activation",
        "Lateral step-up 3x12 with 5 lb, valgus controlled",
    ),
    Session(
        "Needed no rail for the last four stairs going up.",
        "descending the full flight without a rail remains the goal before discharge",
        "progressed the home programme to lateral step-ups with 5 lb and corrected the technique once",
        "Performed the home programme correctly without further cues",
    ),
    Session(
        "Discharge visit: LEFS 55; independent on stairs with one rail and walks in the community without a "
        "device.",
        "last check that stair endurance and walking hold up with the home programme alone",
        "reassessed every goal and finalised the written home programme",
        "Flexion 121 degrees, no extensor lag; performs the home programme without help",
    ),
)

GAIT: dict[int, str] = {
    2: "Gait training with the walker: heel-toe pattern, straight knee at heel strike, 4 x 40 ft.",
    3: "Gait training on level ground with the walker, working on even step length, 3 x 60 ft.",
    4: "Gait training with a single-point cane in the left hand, 4 x 50 ft, then two curb steps.",
    5: "Gait training with the cane on the ramp and the practice stairs, step-to pattern with one rail.",
    6: "Gait training with the cane, 6 x 60 ft, cueing terminal knee extension in late stance.",
}

PHASES: tuple[str, ...] = (
    "graded quadriceps activation, range of motion and gait work",
    "progressive closed-chain loading and balance work monitored for effusion",
    "progressive step and balance loading with monitoring of pain and alignment",
    "final progression of stair endurance and review of the home programme",
)

MONITORING: tuple[str, ...] = (
    "monitored effusion by stroke test before progressing load",
    "assessed extensor lag before each progression",
    "monitored pain between sets against a ceiling of 3/10",
)

MANUAL: tuple[str, ...] = (
    "Patellar mobilisations grade III, superior and inferior glides, 3 x 60 s, to gain flexion",
    "Tibiofemoral posterior glides grade III at end-range flexion, 3 x 30 s",
    "Soft tissue mobilisation to the distal quadriceps and around the incision scar to ease flexion",
)

WITHOUT_MANUAL: tuple[str, ...] = (
    "graded the number of sets to the effusion response",
    "adjusted rest between sets to keep movement quality consistent",
    "progressed hold times only when the previous set was pain-free",
)
