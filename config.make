# Appended to nginx's objs/Makefile: builds the C++ core archive with CMake
# before any of the module's C files (they depend on it, see config).

auth_oidc_core_srcs=`find $ngx_addon_dir/src/core -name '*.cc' -o -name '*.h' \
                     | grep -v '/test/' | tr '\n' ' '`

cat << END                                            >> $NGX_MAKEFILE

$AUTH_OIDC_CORE_LIB:	$ngx_addon_dir/CMakeLists.txt $auth_oidc_core_srcs
	test -f $AUTH_OIDC_CORE_BUILD/CMakeCache.txt \\
	    || cmake -S $ngx_addon_dir -B $AUTH_OIDC_CORE_BUILD \\
	             -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTH_OIDC_TESTS=OFF
	cmake --build $AUTH_OIDC_CORE_BUILD --target auth_oidc_core

END
