# One addon per phase and implementation: <phase>_student builds the student's src/,
# <phase>_solution the reference under solutions/. tools/build.ts builds each target on its own,
# so a compile error in one never stops another. `npm run course -- export` drops the *_solution
# targets from the student release, and every target whose sources a staged release lacks.
# Student targets keep warnings visible but not fatal (-Werror off); the references keep -Werror.
{
  'target_defaults': {
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-fno-rtti'],
    # Hidden visibility: an addon exports only its module entry point (NAPI_MODULE marks it
    # visible), so calls inside it are direct and inlinable rather than through the PLT (a
    # lock, a lookup and a pin are a handful of such calls on every get).
    # TLS descriptors (gnu2): a thread-local in an addon costs a short call into the dynamic
    # linker's resolver instead of __tls_get_addr through the PLT (phase 4's lock ranks).
    'cflags_cc': ['-std=c++20', '-fexceptions', '-Wall', '-Wextra', '-Werror', '-fPIC', '-fvisibility=hidden', '-fvisibility-inlines-hidden', '-mtls-dialect=gnu2'],
    'cflags': ['-fPIC', '-fvisibility=hidden', '-mtls-dialect=gnu2'],
    'include_dirs': ['native-common/include'],
    'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
  },
  'targets': [
    {
      'target_name': 'native_common',
      'type': 'static_library',
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"],
      'export_dependent_settings': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except_all"],
      'sources': [
        'native-common/src/crash_point.cc',
        'native-common/src/errors.cc',
        'native-common/src/mutex_kind.cc',
        'native-common/src/napi_util.cc',
        'native-common/src/object_id.cc',
        'native-common/src/process_identity.cc',
      ],
    },
    # Given from phase 2 on (lib/phases.ts, `given`): the segment and the robust mutex are phase 1's
    # answer, so a phase-1 release has neither these sources nor this target.
    {
      'target_name': 'native_given',
      'type': 'static_library',
      'dependencies': ['native_common'],
      'export_dependent_settings': ['native_common'],
      'sources': [
        'native-common/src/futex.cc',
        'native-common/src/robust_mutex.cc',
        'native-common/src/segment.cc',
      ],
    },
    {
      'target_name': 'phase1_student',
      'dependencies': ['native_common'],
      'cflags_cc!': ['-Werror'],
      'include_dirs': ['phase1-shm/src'],
      'sources': ['phase1-shm/glue/addon.cc', 'phase1-shm/src/shm_store.cc'],
    },
    {
      'target_name': 'phase1_solution',
      'dependencies': ['native_common'],
      'include_dirs': ['solutions/phase1-shm/src'],
      'sources': ['phase1-shm/glue/addon.cc', 'solutions/phase1-shm/src/shm_store.cc'],
    },
    {
      'target_name': 'phase2_student',
      'dependencies': ['native_given'],
      'cflags_cc!': ['-Werror'],
      'include_dirs': ['phase2-objects/src', 'phase2-objects/layout'],
      'sources': [
        'phase2-objects/glue/addon.cc',
        'phase2-objects/glue/components.cc',
        'phase2-objects/layout/checker.cc',
        'phase2-objects/layout/journal.cc',
        'native-common/src/journal.cc',
        'phase2-objects/src/allocator.cc',
        'phase2-objects/src/object_store.cc',
        'phase2-objects/src/object_table.cc',
      ],
    },
    {
      'target_name': 'phase2_solution',
      'dependencies': ['native_given'],
      'include_dirs': ['solutions/phase2-objects/src', 'phase2-objects/layout'],
      'sources': [
        'phase2-objects/glue/addon.cc',
        'phase2-objects/glue/components.cc',
        'phase2-objects/layout/checker.cc',
        'phase2-objects/layout/journal.cc',
        'native-common/src/journal.cc',
        'solutions/phase2-objects/src/allocator.cc',
        'solutions/phase2-objects/src/object_store.cc',
        'solutions/phase2-objects/src/object_table.cc',
      ],
    },
    # The reference with its crash points armed (-DMINIRAY_CRASH_POINTS): the crash-point suite
    # (solutions/phase2-objects/crash/) kills a forked process at each of them. Instructor-only.
    {
      'target_name': 'phase2_crash',
      'dependencies': ['native_given'],
      'defines': ['MINIRAY_CRASH_POINTS'],
      # -O0: the crash suites need the reference's steps, not its speed, and -O0 compiles in
      # about half of -O3's CPU (the build is most of the crash-point step in verify).
      'cflags_cc': ['-O0'],
      'include_dirs': ['solutions/phase2-objects/src', 'phase2-objects/layout'],
      'sources': [
        'native-common/src/crash_point.cc',
        'native-common/src/crash_trial.cc',
        'phase2-objects/glue/addon.cc',
        'phase2-objects/glue/components.cc',
        'phase2-objects/layout/checker.cc',
        'phase2-objects/layout/journal.cc',
        'native-common/src/journal.cc',
        'solutions/phase2-objects/crash/trials.cc',
        'solutions/phase2-objects/src/allocator.cc',
        'solutions/phase2-objects/src/object_store.cc',
        'solutions/phase2-objects/src/object_table.cc',
      ],
    },
    {
      'target_name': 'phase3_student',
      'dependencies': ['native_given'],
      'cflags_cc!': ['-Werror'],
      'include_dirs': ['phase3-scheduler/src', 'phase3-scheduler/glue'],
      'sources': [
        'phase3-scheduler/glue/addon.cc',
        'phase3-scheduler/glue/checker.cc',
        'phase3-scheduler/glue/scheduler_layout.cc',
        'phase3-scheduler/src/scheduler.cc',
        'phase3-scheduler/src/task_queue.cc',
        'phase3-scheduler/src/task_table.cc',
        'phase3-scheduler/src/worker_table.cc',
      ],
    },
    {
      'target_name': 'phase3_solution',
      'dependencies': ['native_given'],
      'include_dirs': ['solutions/phase3-scheduler/src', 'phase3-scheduler/glue'],
      'sources': [
        'phase3-scheduler/glue/addon.cc',
        'phase3-scheduler/glue/checker.cc',
        'phase3-scheduler/glue/scheduler_layout.cc',
        'solutions/phase3-scheduler/src/scheduler.cc',
        'solutions/phase3-scheduler/src/task_queue.cc',
        'solutions/phase3-scheduler/src/task_table.cc',
        'solutions/phase3-scheduler/src/worker_table.cc',
      ],
    },
    # The phase-3 reference with its crash points armed (MINIRAY_CRASH_AT=name:count, see
    # native-common/include/miniray/crash_point.h), for the crash-point suite. Instructor-only.
    {
      'target_name': 'phase3_crash',
      'dependencies': ['native_given'],
      'defines': ['MINIRAY_CRASH_POINTS'],
      # -O0: the crash suites need the reference's steps, not its speed, and -O0 compiles in
      # about half of -O3's CPU (the build is most of the crash-point step in verify).
      'cflags_cc': ['-O0'],
      'include_dirs': ['solutions/phase3-scheduler/src', 'phase3-scheduler/glue'],
      'sources': [
        'native-common/src/crash_point.cc',
        'phase3-scheduler/glue/addon.cc',
        'phase3-scheduler/glue/checker.cc',
        'phase3-scheduler/glue/scheduler_layout.cc',
        'solutions/phase3-scheduler/src/scheduler.cc',
        'solutions/phase3-scheduler/src/task_queue.cc',
        'solutions/phase3-scheduler/src/task_table.cc',
        'solutions/phase3-scheduler/src/worker_table.cc',
      ],
    },
    # Phase 4: the student's src/ over the given layout/ (phase 2's allocator and journal among it).
    {
      'target_name': 'phase4_student',
      'dependencies': ['native_given'],
      'cflags_cc!': ['-Werror'],
      'include_dirs': ['phase4-optimize/src', 'phase4-optimize/layout'],
      'sources': [
        'phase4-optimize/glue/addon.cc',
        'phase4-optimize/layout/allocator.cc',
        'phase4-optimize/layout/checker.cc',
        'phase4-optimize/layout/journal.cc',
        'native-common/src/journal.cc',
        'phase4-optimize/layout/lock_order.cc',
        'phase4-optimize/src/lru_list.cc',
        'phase4-optimize/src/object_store.cc',
        'phase4-optimize/src/slab_pool.cc',
      ],
    },
    {
      'target_name': 'phase4_solution',
      'dependencies': ['native_given'],
      'include_dirs': ['solutions/phase4-optimize/src', 'phase4-optimize/layout'],
      'sources': [
        'phase4-optimize/glue/addon.cc',
        'phase4-optimize/layout/allocator.cc',
        'phase4-optimize/layout/checker.cc',
        'phase4-optimize/layout/journal.cc',
        'native-common/src/journal.cc',
        'phase4-optimize/layout/lock_order.cc',
        'solutions/phase4-optimize/src/lru_list.cc',
        'solutions/phase4-optimize/src/object_store.cc',
        'solutions/phase4-optimize/src/slab_pool.cc',
      ],
    },
    # The phase-4 reference with its crash points armed, for the crash-point suite. Instructor-only.
    {
      'target_name': 'phase4_crash',
      'dependencies': ['native_given'],
      'defines': ['MINIRAY_CRASH_POINTS'],
      # -O0: the crash suites need the reference's steps, not its speed, and -O0 compiles in
      # about half of -O3's CPU (the build is most of the crash-point step in verify).
      'cflags_cc': ['-O0'],
      'include_dirs': ['solutions/phase4-optimize/src', 'phase4-optimize/layout'],
      'sources': [
        'native-common/src/crash_point.cc',
        'phase4-optimize/glue/addon.cc',
        'phase4-optimize/layout/allocator.cc',
        'phase4-optimize/layout/checker.cc',
        'phase4-optimize/layout/journal.cc',
        'native-common/src/journal.cc',
        'phase4-optimize/layout/lock_order.cc',
        'solutions/phase4-optimize/src/lru_list.cc',
        'solutions/phase4-optimize/src/object_store.cc',
        'solutions/phase4-optimize/src/slab_pool.cc',
      ],
    },
    # Benchmark baselines (memcpy, an empty N-API call): tools/bench/, built by `npm run bench`.
    {
      'target_name': 'bench_native',
      'dependencies': ['native_common'],
      'sources': ['tools/bench/native/bench_native.cc'],
    },
    {
      'target_name': 'bench_lock',
      'dependencies': ['native_given'],
      'sources': ['tools/bench/native/bench_lock.cc'],
    },
  ],
}
